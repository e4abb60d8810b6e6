package iot_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

func attrs(kv ...string) *types.AttributePayload {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &types.AttributePayload{Attributes: m}
}

// TestUpdateThing: merge (an empty value deletes), replace, expectedVersion
// and the version count.
func TestUpdateThing(t *testing.T) {
	f := start(t)
	c := f.client
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev"), AttributePayload: attrs("a", "1", "b", "2")}))
	describe := func() *sdkiot.DescribeThingOutput {
		return must(c.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("dev")}))
	}

	p := attrs("b", "", "c", "3")
	p.Merge = true
	must(c.UpdateThing(ctx, &sdkiot.UpdateThingInput{ThingName: aws.String("dev"), AttributePayload: p, ExpectedVersion: aws.Int64(1)}))
	d := describe()
	if fmt.Sprint(d.Attributes) != "map[a:1 c:3]" || d.Version != 2 {
		t.Fatalf("after merge: %v version %d", d.Attributes, d.Version)
	}
	// merge false replaces the whole set.
	must(c.UpdateThing(ctx, &sdkiot.UpdateThingInput{ThingName: aws.String("dev"), AttributePayload: attrs("z", "9")}))
	if d := describe(); fmt.Sprint(d.Attributes) != "map[z:9]" || d.Version != 3 {
		t.Fatalf("after replace: %v version %d", d.Attributes, d.Version)
	}
	// No attributePayload: attributes stay, the version still counts.
	must(c.UpdateThing(ctx, &sdkiot.UpdateThingInput{ThingName: aws.String("dev")}))
	if d := describe(); fmt.Sprint(d.Attributes) != "map[z:9]" || d.Version != 4 {
		t.Fatalf("after empty update: %v version %d", d.Attributes, d.Version)
	}
	_, err := c.UpdateThing(ctx, &sdkiot.UpdateThingInput{ThingName: aws.String("dev"), AttributePayload: attrs("y", "1"), ExpectedVersion: aws.Int64(3)})
	wantCode(t, err, "VersionConflictException")
	if d := describe(); d.Attributes["y"] != "" || d.Version != 4 {
		t.Fatalf("a refused update changed the thing: %v version %d", d.Attributes, d.Version)
	}
	_, err = c.UpdateThing(ctx, &sdkiot.UpdateThingInput{ThingName: aws.String("nobody")})
	wantCode(t, err, "ResourceNotFoundException")
	// ListThings shows the version and attributes.
	l := must(c.ListThings(ctx, &sdkiot.ListThingsInput{AttributeName: aws.String("z")}))
	if len(l.Things) != 1 || l.Things[0].Version != 4 {
		t.Fatalf("ListThings: %+v", l.Things)
	}
}

// TestThingAttributeRules: the AttributePayload patterns of the API
// reference, and invalid UTF-8 refused (not stored as U+FFFD), on
// CreateThing, UpdateThing, CreateThingGroup and UpdateThingGroup.
func TestThingAttributeRules(t *testing.T) {
	f := start(t)
	must(f.client.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev")}))
	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("g")}))
	for _, tc := range []struct{ method, path, body, want string }{
		{"POST", "/things/bad", "{\"attributePayload\":{\"attributes\":{\"fw\":\"v1\xff\xfe\"}}}", `"fw" is not valid UTF-8`},
		{"POST", "/things/bad", "{\"attributePayload\":{\"attributes\":{\"f\xffw\":\"v1\"}}}", `is not valid UTF-8`},
		{"POST", "/things/bad", `{"attributePayload":{"attributes":{"fw":"has space"}}}`, `"fw" must be`},
		{"POST", "/things/bad", `{"attributePayload":{"attributes":{"":"v"}}}`, `attribute name ""`},
		{"POST", "/things/bad", `{"attributePayload":{"attributes":{"fw":"` + strings.Repeat("x", 801) + `"}}}`, `"fw" must be at most 800`},
		{"PATCH", "/things/dev", "{\"attributePayload\":{\"attributes\":{\"fw\":\"\xc3\"},\"merge\":true}}", `"fw" is not valid UTF-8`},
		{"POST", "/thing-groups/bad", "{\"thingGroupProperties\":{\"attributePayload\":{\"attributes\":{\"fw\":\"\xff\"}}}}", `"fw" is not valid UTF-8`},
		{"PATCH", "/thing-groups/g", "{\"thingGroupProperties\":{\"attributePayload\":{\"attributes\":{\"fw\":\"\xff\"}}}}", `"fw" is not valid UTF-8`},
	} {
		status, code, body := f.raw(t, tc.method, tc.path, tc.body)
		var msg struct{ Message string }
		json.Unmarshal([]byte(body), &msg)
		if status != 400 || code != "InvalidRequestException" || !strings.Contains(msg.Message, tc.want) {
			t.Errorf("%s %s %q: %d %s %s", tc.method, tc.path, tc.body, status, code, body)
		}
	}
	_, err := f.client.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("bad")})
	wantCode(t, err, "ResourceNotFoundException")
	if d := must(f.client.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("dev")})); len(d.Attributes) != 0 || d.Version != 1 {
		t.Fatalf("a refused update changed the thing: %+v", d)
	}
	// What the pattern admits goes through.
	must(f.client.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("ok"), AttributePayload: attrs("a.b@c/d:e#f,g-h_i", "x=[1]:/@#,._-")}))
}

// TestDeleteThingWithPrincipal: AWS refuses to delete a thing a
// certificate is attached to; once detached it goes.
func TestDeleteThingWithPrincipal(t *testing.T) {
	f, _ := startCerts(t)
	c := f.client
	_, certArn := f.cert(t)
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev")}))
	must(c.AttachThingPrincipal(ctx, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String("dev"), Principal: aws.String(certArn)}))
	_, err := c.DeleteThing(ctx, &sdkiot.DeleteThingInput{ThingName: aws.String("dev")})
	if ae := wantCode(t, err, "InvalidRequestException"); !strings.Contains(ae.ErrorMessage(), "Thing dev is still attached to one or more principals") {
		t.Fatalf("message: %s", ae.ErrorMessage())
	}
	must(c.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("dev")}))

	// ListThingPrincipalsV2 lists it as NON_EXCLUSIVE_THING.
	v2 := must(c.ListThingPrincipalsV2(ctx, &sdkiot.ListThingPrincipalsV2Input{ThingName: aws.String("dev")}))
	if len(v2.ThingPrincipalObjects) != 1 || *v2.ThingPrincipalObjects[0].Principal != certArn ||
		v2.ThingPrincipalObjects[0].ThingPrincipalType != types.ThingPrincipalTypeNonExclusiveThing {
		t.Fatalf("ListThingPrincipalsV2: %+v", v2.ThingPrincipalObjects)
	}
	ex := must(c.ListThingPrincipalsV2(ctx, &sdkiot.ListThingPrincipalsV2Input{ThingName: aws.String("dev"), ThingPrincipalType: types.ThingPrincipalTypeExclusiveThing}))
	if len(ex.ThingPrincipalObjects) != 0 {
		t.Fatalf("EXCLUSIVE_THING filter: %+v", ex.ThingPrincipalObjects)
	}
	_, err = c.ListThingPrincipalsV2(ctx, &sdkiot.ListThingPrincipalsV2Input{ThingName: aws.String("nobody")})
	wantCode(t, err, "ResourceNotFoundException")
	if status, code, _ := f.raw(t, "GET", "/things/dev/principals-v2?thingPrincipalType=SHARED", ""); status != 400 || code != "InvalidRequestException" {
		t.Fatalf("bad thingPrincipalType: %d %s", status, code)
	}

	must(c.DetachThingPrincipal(ctx, &sdkiot.DetachThingPrincipalInput{ThingName: aws.String("dev"), Principal: aws.String(certArn)}))
	must(c.DeleteThing(ctx, &sdkiot.DeleteThingInput{ThingName: aws.String("dev")}))
}

// TestListThingGroupsForThing: the groups a thing was added to, paged.
func TestListThingGroupsForThing(t *testing.T) {
	f := start(t)
	c := f.client
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev")}))
	must(c.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("root")}))
	for _, g := range []string{"a", "b", "c"} {
		must(c.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String(g), ParentGroupName: aws.String("root")}))
		must(c.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingGroupName: aws.String(g), ThingName: aws.String("dev")}))
	}
	var got []string
	p := sdkiot.NewListThingGroupsForThingPaginator(c, &sdkiot.ListThingGroupsForThingInput{ThingName: aws.String("dev"), MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		for _, g := range must(p.NextPage(ctx)).ThingGroups {
			if *g.GroupArn != groupArn(*g.GroupName) {
				t.Fatalf("group ARN %s", *g.GroupArn)
			}
			got = append(got, *g.GroupName)
		}
	}
	if fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("ListThingGroupsForThing: %v", got)
	}
	must(c.RemoveThingFromThingGroup(ctx, &sdkiot.RemoveThingFromThingGroupInput{ThingGroupName: aws.String("b"), ThingName: aws.String("dev")}))
	l := must(c.ListThingGroupsForThing(ctx, &sdkiot.ListThingGroupsForThingInput{ThingName: aws.String("dev")}))
	if len(l.ThingGroups) != 2 {
		t.Fatalf("after remove: %+v", l.ThingGroups)
	}
	_, err := c.ListThingGroupsForThing(ctx, &sdkiot.ListThingGroupsForThingInput{ThingName: aws.String("nobody")})
	wantCode(t, err, "ResourceNotFoundException")
}
