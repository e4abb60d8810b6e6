package iot_test

import (
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/policy"
)

func principalPolicies(p iot.Principal) []string {
	var n []string
	for _, pol := range p.Policies {
		n = append(n, pol.Name)
	}
	sort.Strings(n)
	return n
}

func TestConnectionPrincipal(t *testing.T) {
	f := startWithCerts(t)
	certArn := f.device(t)
	id := certArn[len(env.ARN("iot", "cert/")):]

	p := must(f.svc.ConnectionPrincipal(id, "dev-1"))
	if p.CertificateStatus != "ACTIVE" || p.Certificate == nil {
		t.Fatalf("status %q, certificate %v", p.CertificateStatus, p.Certificate != nil)
	}
	if p.Thing == nil || p.Thing.Name != "dev-1" || !p.Thing.IsAttached {
		t.Fatalf("thing %+v", p.Thing)
	}
	if n := principalPolicies(p); !slices.Equal(n, []string{"connect", "deny-b", "thing-topics", "wide"}) {
		t.Fatalf("policies %v", n)
	}

	// A client id that is not a thing attached to the certificate: no thing,
	// no group policies.
	p = must(f.svc.ConnectionPrincipal(id, "dev-2"))
	if p.Thing != nil || !slices.Equal(principalPolicies(p), []string{"connect", "deny-b", "wide"}) {
		t.Fatalf("as dev-2: thing %+v, policies %v", p.Thing, principalPolicies(p))
	}

	_, err := f.svc.ConnectionPrincipal(zeros64, "dev-1")
	wantCode(t, err, "ResourceNotFoundException")

	must(f.client.UpdateCertificate(ctx, &sdkiot.UpdateCertificateInput{CertificateId: aws.String(id), NewStatus: "INACTIVE"}))
	if p = must(f.svc.ConnectionPrincipal(id, "dev-1")); p.CertificateStatus != "INACTIVE" {
		t.Fatalf("status after UpdateCertificate: %s", p.CertificateStatus)
	}
}

func TestNamedPolicyPrincipal(t *testing.T) {
	f := startWithCerts(t)
	f.device(t)
	p := must(f.svc.NamedPolicyPrincipal("wide", "dev-1"))
	if p.CertificateStatus != "" || p.Certificate != nil || p.Thing == nil || p.Thing.IsAttached || !slices.Equal(principalPolicies(p), []string{"wide"}) {
		t.Fatalf("named policy, thing client id: %+v", p)
	}
	p = must(f.svc.NamedPolicyPrincipal("wide", "not-a-thing"))
	if p.Thing != nil {
		t.Fatalf("thing for a client id that names none: %+v", p.Thing)
	}
	_, err := f.svc.NamedPolicyPrincipal("missing", "dev-1")
	wantCode(t, err, "ResourceNotFoundException")
}

// The broker asks at every CONNECT: documents are parsed once per version,
// and a new default version is seen at once.
func TestPrincipalDocumentCache(t *testing.T) {
	f := startWithCerts(t)
	id, certArn := f.cert(t)
	f.policy(t, "p", docPublish("old"))
	must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(certArn)}))

	a := must(f.svc.ConnectionPrincipal(id, "c"))
	b := must(f.svc.ConnectionPrincipal(id, "c"))
	if a.Policies[0].Document != b.Policies[0].Document {
		t.Fatal("the document was parsed again for the same version")
	}
	may := func(p iot.Principal, topic string) bool {
		return policy.Evaluate(p.Policies, policy.Request{Action: policy.ActionPublish, Resource: topicArn(topic),
			Context: policy.Context{ClientID: "c"}}).Allowed()
	}
	if !may(a, "old") || may(a, "new") {
		t.Fatal("version 1 does not decide as written")
	}
	must(f.client.CreatePolicyVersion(ctx, &sdkiot.CreatePolicyVersionInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(docPublish("new")), SetAsDefault: true}))
	c := must(f.svc.ConnectionPrincipal(id, "c"))
	if may(c, "old") || !may(c, "new") {
		t.Fatal("the new default version is not in effect")
	}

	// Deleted and created again under the same name: the new document.
	must(f.client.DetachPolicy(ctx, &sdkiot.DetachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(certArn)}))
	must(f.client.DeletePolicyVersion(ctx, &sdkiot.DeletePolicyVersionInput{PolicyName: aws.String("p"), PolicyVersionId: aws.String("1")}))
	must(f.client.DeletePolicy(ctx, &sdkiot.DeletePolicyInput{PolicyName: aws.String("p")}))
	f.policy(t, "p", docPublish("third"))
	must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(certArn)}))
	if d := must(f.svc.ConnectionPrincipal(id, "c")); !may(d, "third") || may(d, "old") {
		t.Fatal("a recreated policy decides with an old document")
	}
}
