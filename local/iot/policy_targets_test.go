package iot_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/mqtt"
)

// startWithCerts is start with the certificate operations enabled.
func startWithCerts(t testing.TB) *fixture {
	t.Helper()
	f := start(t)
	ca, err := mqtt.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	f.svc.SetCertificateIssuer(ca)
	return f
}

// cert creates an ACTIVE certificate and returns its id and ARN.
func (f *fixture) cert(t testing.TB) (string, string) {
	t.Helper()
	out := must(f.client.CreateKeysAndCertificate(ctx, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true}))
	return *out.CertificateId, *out.CertificateArn
}

// events records the service's events.
type events struct {
	mu  sync.Mutex
	evs []iot.Event
}

func (f *fixture) events() *events {
	e := &events{}
	f.svc.Subscribe(func(ev iot.Event) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.evs = append(e.evs, ev)
	})
	return e
}

// take returns the PoliciesChanged events so far and forgets them.
func (e *events) take() []iot.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []iot.Event
	for _, ev := range e.evs {
		if ev.Kind == iot.PoliciesChanged {
			out = append(out, ev)
		}
	}
	e.evs = nil
	return out
}

func attachedNames(t testing.TB, f *fixture, target string, recursive bool) []string {
	t.Helper()
	var names []string
	out := must(f.client.ListAttachedPolicies(ctx, &sdkiot.ListAttachedPoliciesInput{Target: aws.String(target), Recursive: recursive}))
	for _, p := range out.Policies {
		names = append(names, *p.PolicyName)
	}
	return names
}

func TestAttachDetachPolicy(t *testing.T) {
	f := startWithCerts(t)
	evs := f.events()
	_, certArn := f.cert(t)
	f.group(t, "fleet", 2)
	f.policy(t, "p1", docAllowAll)
	f.policy(t, "p2", docConnect)

	must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p1"), Target: aws.String(certArn)}))
	must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p2"), Target: aws.String(certArn)}))
	must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p1"), Target: aws.String(groupArn("fleet"))}))
	// Attaching again changes nothing.
	must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p1"), Target: aws.String(certArn)}))

	got := evs.take()
	if len(got) != 3 || got[0].Policy != "p1" || !slices.Equal(got[0].Principals, []string{certArn}) ||
		!slices.Equal(got[2].Groups, []string{"fleet"}) || !slices.Equal(got[2].Things, []string{"fleet-0000", "fleet-0001"}) {
		t.Fatalf("events of three attachments: %+v", got)
	}

	if n := attachedNames(t, f, certArn, false); !slices.Equal(n, []string{"p1", "p2"}) {
		t.Fatalf("ListAttachedPolicies(cert): %v", n)
	}
	targets := must(f.client.ListTargetsForPolicy(ctx, &sdkiot.ListTargetsForPolicyInput{PolicyName: aws.String("p1")})).Targets
	if !slices.Equal(targets, []string{certArn, groupArn("fleet")}) {
		t.Fatalf("ListTargetsForPolicy(p1): %v", targets)
	}

	must(f.client.DetachPolicy(ctx, &sdkiot.DetachPolicyInput{PolicyName: aws.String("p1"), Target: aws.String(certArn)}))
	if n := attachedNames(t, f, certArn, false); !slices.Equal(n, []string{"p2"}) {
		t.Fatalf("after DetachPolicy: %v", n)
	}
	if got := evs.take(); len(got) != 1 || got[0].Policy != "p1" || !slices.Equal(got[0].Principals, []string{certArn}) {
		t.Fatalf("detach event: %+v", got)
	}
	// Detaching what is not attached changes nothing, and says nothing.
	must(f.client.DetachPolicy(ctx, &sdkiot.DetachPolicyInput{PolicyName: aws.String("p1"), Target: aws.String(certArn)}))
	if got := evs.take(); len(got) != 0 {
		t.Fatalf("a no-op detach emitted %+v", got)
	}
}

func TestAttachPolicyMissingTargets(t *testing.T) {
	f := startWithCerts(t)
	_, certArn := f.cert(t)
	f.policy(t, "p", docAllowAll)
	for _, target := range []string{
		env.ARN("iot", "cert/"+fmt.Sprintf("%064d", 0)),
		groupArn("no-such-group"),
	} {
		_, err := f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(target)})
		wantCode(t, err, "ResourceNotFoundException")
		_, err = f.client.ListAttachedPolicies(ctx, &sdkiot.ListAttachedPoliciesInput{Target: aws.String(target)})
		wantCode(t, err, "ResourceNotFoundException")
	}
	// A missing policy.
	_, err := f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("nope"), Target: aws.String(certArn)})
	wantCode(t, err, "ResourceNotFoundException")
	// Not a target at all: another account, a thing, a Cognito identity.
	for _, target := range []string{
		"arn:aws:iot:us-east-1:999999999999:cert/abc", thingArn("t"), "us-east-1:0000-1111",
	} {
		_, err := f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(target)})
		wantCode(t, err, "InvalidRequestException")
	}
	if n := must(f.client.ListTargetsForPolicy(ctx, &sdkiot.ListTargetsForPolicyInput{PolicyName: aws.String("p")})).Targets; len(n) != 0 {
		t.Fatalf("refused attachments were stored: %v", n)
	}
	_, err = f.client.ListTargetsForPolicy(ctx, &sdkiot.ListTargetsForPolicyInput{PolicyName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestAttachPolicyLimitPerCertificate(t *testing.T) {
	f := startWithCerts(t)
	_, certArn := f.cert(t)
	for i := 0; i < 11; i++ {
		f.policy(t, fmt.Sprintf("p%02d", i), docAllowAll)
	}
	for i := 0; i < 10; i++ {
		must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String(fmt.Sprintf("p%02d", i)), Target: aws.String(certArn)}))
	}
	_, err := f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p10"), Target: aws.String(certArn)})
	wantCode(t, err, "LimitExceededException")
	// Re-attaching one already attached is not an eleventh.
	must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p03"), Target: aws.String(certArn)}))
}

func TestDeleteAttachedPolicy(t *testing.T) {
	f := startWithCerts(t)
	_, certArn := f.cert(t)
	f.policy(t, "p", docAllowAll)
	must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(certArn)}))
	_, err := f.client.DeletePolicy(ctx, &sdkiot.DeletePolicyInput{PolicyName: aws.String("p")})
	ae := wantCode(t, err, "DeleteConflictException")
	if ae.ErrorMessage() != "The policy cannot be deleted as the policy is attached to one or more principals (name=p)" {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	// A thing group attachment blocks it too.
	f.group(t, "g", 0)
	must(f.client.DetachPolicy(ctx, &sdkiot.DetachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(certArn)}))
	must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(groupArn("g"))}))
	_, err = f.client.DeletePolicy(ctx, &sdkiot.DeletePolicyInput{PolicyName: aws.String("p")})
	wantCode(t, err, "DeleteConflictException")
	must(f.client.DetachPolicy(ctx, &sdkiot.DetachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(groupArn("g"))}))
	must(f.client.DeletePolicy(ctx, &sdkiot.DeletePolicyInput{PolicyName: aws.String("p")}))
}

func TestListAttachedPoliciesRecursive(t *testing.T) {
	f := start(t)
	// root ← mid ← leaf, each with its own policy; root's is also on leaf.
	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("root")}))
	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("mid"), ParentGroupName: aws.String("root")}))
	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("leaf"), ParentGroupName: aws.String("mid")}))
	for g, p := range map[string]string{"root": "p-root", "mid": "p-mid", "leaf": "p-leaf"} {
		f.policy(t, p, docAllowAll)
		must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String(p), Target: aws.String(groupArn(g))}))
	}
	must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p-root"), Target: aws.String(groupArn("leaf"))}))

	if n := attachedNames(t, f, groupArn("leaf"), false); !slices.Equal(n, []string{"p-leaf", "p-root"}) {
		t.Fatalf("leaf, not recursive: %v", n)
	}
	if n := attachedNames(t, f, groupArn("leaf"), true); !slices.Equal(n, []string{"p-leaf", "p-mid", "p-root"}) {
		t.Fatalf("leaf, recursive: %v", n)
	}
	if n := attachedNames(t, f, groupArn("root"), true); !slices.Equal(n, []string{"p-root"}) {
		t.Fatalf("root, recursive: %v", n)
	}
	// Paged with markers.
	out := must(f.client.ListAttachedPolicies(ctx, &sdkiot.ListAttachedPoliciesInput{Target: aws.String(groupArn("leaf")), Recursive: true, PageSize: aws.Int32(2)}))
	if len(out.Policies) != 2 || out.NextMarker == nil {
		t.Fatalf("first page: %d, marker %v", len(out.Policies), out.NextMarker)
	}
	out = must(f.client.ListAttachedPolicies(ctx, &sdkiot.ListAttachedPoliciesInput{Target: aws.String(groupArn("leaf")), Recursive: true, PageSize: aws.Int32(2), Marker: out.NextMarker}))
	if len(out.Policies) != 1 || *out.Policies[0].PolicyName != "p-root" || out.NextMarker != nil {
		t.Fatalf("second page: %+v", out.Policies)
	}
}

// The older principal operations still appear in AWS's recipes.
func TestPrincipalPolicyOperations(t *testing.T) {
	f := startWithCerts(t)
	_, certArn := f.cert(t)
	f.group(t, "g", 0)
	f.policy(t, "p", docAllowAll)
	must(f.client.AttachPrincipalPolicy(ctx, &sdkiot.AttachPrincipalPolicyInput{PolicyName: aws.String("p"), Principal: aws.String(certArn)}))
	must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(groupArn("g"))}))
	pols := must(f.client.ListPrincipalPolicies(ctx, &sdkiot.ListPrincipalPoliciesInput{Principal: aws.String(certArn)})).Policies
	if len(pols) != 1 || *pols[0].PolicyName != "p" {
		t.Fatalf("ListPrincipalPolicies: %+v", pols)
	}
	// ListPolicyPrincipals lists certificates, not thing groups.
	prs := must(f.client.ListPolicyPrincipals(ctx, &sdkiot.ListPolicyPrincipalsInput{PolicyName: aws.String("p")})).Principals
	if !slices.Equal(prs, []string{certArn}) {
		t.Fatalf("ListPolicyPrincipals: %v", prs)
	}
	must(f.client.DetachPrincipalPolicy(ctx, &sdkiot.DetachPrincipalPolicyInput{PolicyName: aws.String("p"), Principal: aws.String(certArn)}))
	if n := attachedNames(t, f, certArn, false); len(n) != 0 {
		t.Fatalf("after DetachPrincipalPolicy: %v", n)
	}
}

// Versions that change what a connection may do are announced, with the
// targets concerned.
func TestPolicyVersionEvents(t *testing.T) {
	f := startWithCerts(t)
	_, certArn := f.cert(t)
	f.policy(t, "p", docAllowAll)
	must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(certArn)}))
	evs := f.events()
	must(f.client.CreatePolicyVersion(ctx, &sdkiot.CreatePolicyVersionInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(docConnect)}))
	if got := evs.take(); len(got) != 0 {
		t.Fatalf("a non-default version emitted %+v", got)
	}
	must(f.client.SetDefaultPolicyVersion(ctx, &sdkiot.SetDefaultPolicyVersionInput{PolicyName: aws.String("p"), PolicyVersionId: aws.String("2")}))
	if got := evs.take(); len(got) != 1 || got[0].Policy != "p" || !slices.Equal(got[0].Principals, []string{certArn}) {
		t.Fatalf("SetDefaultPolicyVersion: %+v", got)
	}
	must(f.client.CreatePolicyVersion(ctx, &sdkiot.CreatePolicyVersionInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(docAllowAll), SetAsDefault: true}))
	if got := evs.take(); len(got) != 1 || got[0].Policy != "p" {
		t.Fatalf("CreatePolicyVersion setAsDefault: %+v", got)
	}
}

// A thing joining or leaving a group with policies (its own or a parent's)
// changes what the thing may do; a deleted group's policies are detached.
func TestGroupChangesAndPolicies(t *testing.T) {
	f := start(t)
	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("root")}))
	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("leaf"), ParentGroupName: aws.String("root")}))
	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("plain")}))
	must(f.client.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev")}))
	f.policy(t, "p", docAllowAll)
	must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(groupArn("root"))}))
	evs := f.events()

	must(f.client.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingGroupName: aws.String("leaf"), ThingName: aws.String("dev")}))
	if got := evs.take(); len(got) != 1 || !slices.Equal(got[0].Things, []string{"dev"}) {
		t.Fatalf("joining a group whose parent has a policy: %+v", got)
	}
	must(f.client.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingGroupName: aws.String("plain"), ThingName: aws.String("dev")}))
	if got := evs.take(); len(got) != 0 {
		t.Fatalf("joining a group without policies: %+v", got)
	}
	must(f.client.RemoveThingFromThingGroup(ctx, &sdkiot.RemoveThingFromThingGroupInput{ThingGroupName: aws.String("leaf"), ThingName: aws.String("dev")}))
	if got := evs.take(); len(got) != 1 || !slices.Equal(got[0].Things, []string{"dev"}) {
		t.Fatalf("leaving it: %+v", got)
	}

	must(f.client.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingGroupName: aws.String("root"), ThingName: aws.String("dev")}))
	must(f.client.DeleteThingGroup(ctx, &sdkiot.DeleteThingGroupInput{ThingGroupName: aws.String("leaf")}))
	evs.take()
	must(f.client.DeleteThingGroup(ctx, &sdkiot.DeleteThingGroupInput{ThingGroupName: aws.String("root")}))
	if got := evs.take(); len(got) != 1 || !slices.Equal(got[0].Groups, []string{"root"}) || !slices.Equal(got[0].Things, []string{"dev"}) {
		t.Fatalf("deleting a group with a policy: %+v", got)
	}
	if n := must(f.client.ListTargetsForPolicy(ctx, &sdkiot.ListTargetsForPolicyInput{PolicyName: aws.String("p")})).Targets; len(n) != 0 {
		t.Fatalf("a deleted group is still a target: %v", n)
	}
	must(f.client.DeletePolicy(ctx, &sdkiot.DeletePolicyInput{PolicyName: aws.String("p")}))
}
