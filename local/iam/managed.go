package iam

// managed are the AWS managed policies AttachRolePolicy accepts, by ARN:
// the ones an AWS IoT or OTA setup attaches to its service roles (AWS's
// managed-policy reference gives each ARN, path included). An ARN not
// listed is NoSuchEntity, as an AWS managed policy that does not exist is.
var managed = map[string]bool{
	"arn:aws:iam::aws:policy/service-role/AmazonFreeRTOSOTAUpdate":  true, // the OTA update service role's
	"arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration": true,
	"arn:aws:iam::aws:policy/service-role/AWSIoTLogging":            true,
	"arn:aws:iam::aws:policy/service-role/AWSIoTRuleActions":        true,
	"arn:aws:iam::aws:policy/AWSIoTFullAccess":                      true,
	"arn:aws:iam::aws:policy/AWSIoTDataAccess":                      true,
	"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess":                true,
	"arn:aws:iam::aws:policy/AmazonS3FullAccess":                    true,
	"arn:aws:iam::aws:policy/AWSSignerFullAccess":                   true,
	"arn:aws:iam::aws:policy/AdministratorAccess":                   true,
	"arn:aws:iam::aws:policy/ReadOnlyAccess":                        true,
}
