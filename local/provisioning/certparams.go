package provisioning

import (
	"crypto/x509"
	"encoding/asn1"
)

// The parameters just-in-time provisioning takes from the connecting
// device's certificate: its subject's attributes, and the id AWS IoT gives
// the certificate (not one the certificate contains).
const (
	ParamCountry                    = "AWS::IoT::Certificate::Country"
	ParamOrganization               = "AWS::IoT::Certificate::Organization"
	ParamOrganizationalUnit         = "AWS::IoT::Certificate::OrganizationalUnit"
	ParamDistinguishedNameQualifier = "AWS::IoT::Certificate::DistinguishedNameQualifier"
	ParamStateName                  = "AWS::IoT::Certificate::StateName"
	ParamCommonName                 = "AWS::IoT::Certificate::CommonName"
	ParamSerialNumber               = "AWS::IoT::Certificate::SerialNumber"
	ParamID                         = "AWS::IoT::Certificate::Id"
)

// subjectAttributes maps the subject's attribute types (X.520 OIDs) to
// the parameters they fill.
var subjectAttributes = []struct {
	oid   asn1.ObjectIdentifier
	param string
}{
	{asn1.ObjectIdentifier{2, 5, 4, 6}, ParamCountry},
	{asn1.ObjectIdentifier{2, 5, 4, 10}, ParamOrganization},
	{asn1.ObjectIdentifier{2, 5, 4, 11}, ParamOrganizationalUnit},
	{asn1.ObjectIdentifier{2, 5, 4, 46}, ParamDistinguishedNameQualifier},
	{asn1.ObjectIdentifier{2, 5, 4, 8}, ParamStateName},
	{asn1.ObjectIdentifier{2, 5, 4, 3}, ParamCommonName},
	{asn1.ObjectIdentifier{2, 5, 4, 5}, ParamSerialNumber}, // the subject's serialNumber attribute
}

// CertificateParameters returns the JITP parameters of cert, whose AWS IoT
// certificate id is id. An attribute the subject lacks is absent (a
// template that declares it without a Default then fails, as on AWS); an
// attribute given twice gives its first value.
func CertificateParameters(cert *x509.Certificate, id string) map[string]string {
	out := map[string]string{ParamID: id}
	for _, atv := range cert.Subject.Names {
		for _, a := range subjectAttributes {
			if !atv.Type.Equal(a.oid) {
				continue
			}
			if _, seen := out[a.param]; seen {
				continue
			}
			if s, ok := atv.Value.(string); ok {
				out[a.param] = s
			}
		}
	}
	return out
}
