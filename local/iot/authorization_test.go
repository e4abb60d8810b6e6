package iot_test

import (
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

const docThingTopics = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish",
 "Resource":"arn:aws:iot:us-east-1:123456789012:topic/things/${iot:Connection.Thing.ThingName}/*"}]}`

func topicArn(topic string) string { return env.ARN("iot", "topic/"+topic) }

// device sets up a certificate attached to thing dev-1 in group fleet (child
// of root), with policies on the certificate and on root.
func (f *fixture) device(t testing.TB) string {
	t.Helper()
	_, certArn := f.cert(t)
	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("root")}))
	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("fleet"), ParentGroupName: aws.String("root")}))
	must(f.client.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev-1")}))
	must(f.client.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingGroupName: aws.String("fleet"), ThingName: aws.String("dev-1")}))
	must(f.client.AttachThingPrincipal(ctx, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String("dev-1"), Principal: aws.String(certArn)}))
	f.policy(t, "connect", docConnect)
	f.policy(t, "wide", docPublish("a/*"))
	f.policy(t, "deny-b", docDenyPublish("a/b"))
	f.policy(t, "thing-topics", docThingTopics)
	for _, p := range []string{"connect", "wide", "deny-b"} {
		must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String(p), Target: aws.String(certArn)}))
	}
	must(f.client.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("thing-topics"), Target: aws.String(groupArn("root"))}))
	return certArn
}

func policyNames(ps []types.Policy) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, *p.PolicyName)
	}
	sort.Strings(out)
	return out
}

func TestGetEffectivePolicies(t *testing.T) {
	f := startWithCerts(t)
	certArn := f.device(t)
	names := func(out *sdkiot.GetEffectivePoliciesOutput) []string {
		var n []string
		for _, p := range out.EffectivePolicies {
			n = append(n, *p.PolicyName)
			if *p.PolicyArn != policyArn(*p.PolicyName) || aws.ToString(p.PolicyDocument) == "" {
				t.Errorf("effective policy %+v", p)
			}
		}
		sort.Strings(n)
		return n
	}
	got := names(must(f.client.GetEffectivePolicies(ctx, &sdkiot.GetEffectivePoliciesInput{Principal: aws.String(certArn), ThingName: aws.String("dev-1")})))
	if !slices.Equal(got, []string{"connect", "deny-b", "thing-topics", "wide"}) {
		t.Fatalf("certificate and thing: %v", got)
	}
	got = names(must(f.client.GetEffectivePolicies(ctx, &sdkiot.GetEffectivePoliciesInput{Principal: aws.String(certArn)})))
	if !slices.Equal(got, []string{"connect", "deny-b", "wide"}) {
		t.Fatalf("certificate only: %v", got)
	}
	got = names(must(f.client.GetEffectivePolicies(ctx, &sdkiot.GetEffectivePoliciesInput{ThingName: aws.String("dev-1")})))
	if !slices.Equal(got, []string{"thing-topics"}) {
		t.Fatalf("thing only (through fleet's parent root): %v", got)
	}
	_, err := f.client.GetEffectivePolicies(ctx, &sdkiot.GetEffectivePoliciesInput{ThingName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = f.client.GetEffectivePolicies(ctx, &sdkiot.GetEffectivePoliciesInput{})
	wantCode(t, err, "InvalidRequestException")
}

// authorize asks TestAuthorization one question.
func (f *fixture) authorize(t testing.TB, in *sdkiot.TestAuthorizationInput, action types.ActionType, resource string) types.AuthResult {
	t.Helper()
	in.AuthInfos = []types.AuthInfo{{ActionType: action, Resources: []string{resource}}}
	out := must(f.client.TestAuthorization(ctx, in))
	if len(out.AuthResults) != 1 {
		t.Fatalf("%d results for one authInfo", len(out.AuthResults))
	}
	r := out.AuthResults[0]
	if r.AuthInfo == nil || r.AuthInfo.ActionType != action || !slices.Equal(r.AuthInfo.Resources, []string{resource}) {
		t.Fatalf("authInfo not echoed: %+v", r.AuthInfo)
	}
	return r
}

func TestTestAuthorization(t *testing.T) {
	f := startWithCerts(t)
	certArn := f.device(t)
	as := func(client string) *sdkiot.TestAuthorizationInput {
		return &sdkiot.TestAuthorizationInput{Principal: aws.String(certArn), ClientId: aws.String(client)}
	}

	r := f.authorize(t, as("dev-1"), types.ActionTypePublish, topicArn("a/x"))
	if r.AuthDecision != types.AuthDecisionAllowed || !slices.Equal(policyNames(r.Allowed.Policies), []string{"wide"}) {
		t.Fatalf("publish a/x: %s allowed by %v", r.AuthDecision, policyNames(r.Allowed.Policies))
	}
	r = f.authorize(t, as("dev-1"), types.ActionTypePublish, topicArn("a/b"))
	if r.AuthDecision != types.AuthDecisionExplicitDeny || !slices.Equal(policyNames(r.Denied.ExplicitDeny.Policies), []string{"deny-b"}) {
		t.Fatalf("publish a/b: %s denied by %v", r.AuthDecision, policyNames(r.Denied.ExplicitDeny.Policies))
	}
	r = f.authorize(t, as("dev-1"), types.ActionTypeSubscribe, env.ARN("iot", "topicfilter/a/x"))
	if r.AuthDecision != types.AuthDecisionImplicitDeny || len(r.Denied.ImplicitDeny.Policies) == 0 {
		t.Fatalf("subscribe a/x: %s (implicit %v)", r.AuthDecision, policyNames(r.Denied.ImplicitDeny.Policies))
	}

	// The client id resolves ${iot:ClientId}; the attached thing resolves
	// the thing variables and brings its groups' policies (root's, inherited).
	if r = f.authorize(t, as("dev-1"), types.ActionTypeConnect, env.ARN("iot", "client/dev-1")); r.AuthDecision != types.AuthDecisionAllowed {
		t.Fatalf("connect as dev-1: %s", r.AuthDecision)
	}
	if r = f.authorize(t, as("dev-1"), types.ActionTypeConnect, env.ARN("iot", "client/dev-2")); r.AuthDecision != types.AuthDecisionImplicitDeny {
		t.Fatalf("connect as dev-2 with client id dev-1: %s", r.AuthDecision)
	}
	if r = f.authorize(t, as("dev-1"), types.ActionTypePublish, topicArn("things/dev-1/state")); r.AuthDecision != types.AuthDecisionAllowed ||
		!slices.Equal(policyNames(r.Allowed.Policies), []string{"thing-topics"}) {
		t.Fatalf("publish to its own thing topic: %s by %v", r.AuthDecision, policyNames(r.Allowed.Policies))
	}
	// Another client id is not the thing: no thing, no group policies.
	if r = f.authorize(t, as("someone"), types.ActionTypePublish, topicArn("things/dev-1/state")); r.AuthDecision != types.AuthDecisionImplicitDeny {
		t.Fatalf("publish to dev-1's topic as another client: %s", r.AuthDecision)
	}

	// policyNamesToSkip and policyNamesToAdd.
	in := as("dev-1")
	in.PolicyNamesToSkip = []string{"deny-b"}
	if r = f.authorize(t, in, types.ActionTypePublish, topicArn("a/b")); r.AuthDecision != types.AuthDecisionAllowed {
		t.Fatalf("a/b skipping deny-b: %s", r.AuthDecision)
	}
	f.policy(t, "extra", docPublish("z"))
	in = as("dev-1")
	in.PolicyNamesToAdd = []string{"extra"}
	if r = f.authorize(t, in, types.ActionTypePublish, topicArn("z")); r.AuthDecision != types.AuthDecisionAllowed {
		t.Fatalf("z adding extra: %s", r.AuthDecision)
	}
	in.PolicyNamesToAdd = []string{"missing"}
	in.AuthInfos = []types.AuthInfo{{ActionType: types.ActionTypePublish, Resources: []string{topicArn("z")}}}
	_, err := f.client.TestAuthorization(ctx, in)
	wantCode(t, err, "ResourceNotFoundException")

	// Several authInfos: one result each, in order; several resources in
	// one: allowed only if all are.
	out := must(f.client.TestAuthorization(ctx, &sdkiot.TestAuthorizationInput{Principal: aws.String(certArn), ClientId: aws.String("dev-1"),
		AuthInfos: []types.AuthInfo{
			{ActionType: types.ActionTypePublish, Resources: []string{topicArn("a/1"), topicArn("a/2")}},
			{ActionType: types.ActionTypePublish, Resources: []string{topicArn("a/1"), topicArn("a/b")}},
			{ActionType: types.ActionTypePublish, Resources: []string{topicArn("a/1"), topicArn("q")}},
		}}))
	var decisions []types.AuthDecision
	for _, r := range out.AuthResults {
		decisions = append(decisions, r.AuthDecision)
	}
	if !slices.Equal(decisions, []types.AuthDecision{types.AuthDecisionAllowed, types.AuthDecisionExplicitDeny, types.AuthDecisionImplicitDeny}) {
		t.Fatalf("decisions %v", decisions)
	}
}

func TestTestAuthorizationBadInput(t *testing.T) {
	f := startWithCerts(t)
	_, certArn := f.cert(t)
	for name, body := range map[string]string{
		"no authInfos":   `{"principal":"` + certArn + `","authInfos":[]}`,
		"bad actionType": `{"principal":"` + certArn + `","authInfos":[{"actionType":"RETAIN","resources":["x"]}]}`,
		"no resources":   `{"principal":"` + certArn + `","authInfos":[{"actionType":"PUBLISH","resources":[]}]}`,
		"eleven":         `{"authInfos":[` + repeatJSON(`{"actionType":"PUBLISH","resources":["x"]}`, 11) + `]}`,
	} {
		code, errType, body := f.raw(t, "POST", "/test-authorization", body)
		if code != 400 || errType == "" || errType[:len("InvalidRequestException")] != "InvalidRequestException" {
			t.Errorf("%s: %d %s %s", name, code, errType, body)
		}
	}
	_, err := f.client.TestAuthorization(ctx, &sdkiot.TestAuthorizationInput{Principal: aws.String(env.ARN("iot", "cert/"+zeros64)),
		AuthInfos: []types.AuthInfo{{ActionType: types.ActionTypeConnect, Resources: []string{env.ARN("iot", "client/x")}}}})
	wantCode(t, err, "ResourceNotFoundException")
}

const zeros64 = "0000000000000000000000000000000000000000000000000000000000000000"

func repeatJSON(item string, n int) string {
	s := item
	for i := 1; i < n; i++ {
		s += "," + item
	}
	return s
}
