package acm_test

import (
	"encoding/json"
	"github.com/otactl/otactl/internal/testtool"
	"os"
	"os/exec"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkacm "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

// TestThroughServer imports through the full otactl local server (routed by
// SigV4 service name "acm") and lists with the AWS CLI when it is there.
func TestThroughServer(t *testing.T) {
	env := localtest.Start(t)
	c := sdkacm.NewFromConfig(env.Config)
	certPEM, keyPEM := newCert(t, ecKey(t), "server.example.com")
	out, err := c.ImportCertificate(localtest.Ctx(), &sdkacm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.CertificateArn)
	if want := "arn:aws:acm:us-east-1:" + local.DefaultAccountID + ":certificate/"; len(arn) <= len(want) || arn[:len(want)] != want {
		t.Fatalf("arn %s", arn)
	}
	d, err := c.DescribeCertificate(localtest.Ctx(), &sdkacm.DescribeCertificateInput{CertificateArn: &arn})
	if err != nil || d.Certificate.Type != types.CertificateTypeImported {
		t.Fatalf("describe: %v", err)
	}

	awsCLI := testtool.Require(t, "aws", "apt-get install awscli")
	cmd := exec.Command(awsCLI, "acm", "list-certificates", "--includes", "keyTypes=EC_prime256v1",
		"--endpoint-url", env.URL, "--region", "us-east-1", "--output", "json")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws acm list-certificates: %v", err)
	}
	var list struct {
		CertificateSummaryList []struct{ CertificateArn, DomainName string }
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if len(list.CertificateSummaryList) != 1 || list.CertificateSummaryList[0].CertificateArn != arn ||
		list.CertificateSummaryList[0].DomainName != "server.example.com" {
		t.Fatalf("aws cli listed %s", raw)
	}
}
