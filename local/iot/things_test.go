package iot_test

import (
	"fmt"
	"net/http"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

func TestThings(t *testing.T) {
	f := start(t)
	c := f.client
	out := must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev-1"),
		AttributePayload: &types.AttributePayload{Attributes: map[string]string{"model": "m1"}}}))
	if *out.ThingArn != thingArn("dev-1") || *out.ThingId == "" {
		t.Fatalf("CreateThing: %+v", out)
	}
	// The same thing again is fine; a different one is a conflict naming it.
	again := must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev-1"),
		AttributePayload: &types.AttributePayload{Attributes: map[string]string{"model": "m1"}}}))
	if *again.ThingId != *out.ThingId {
		t.Fatal("identical CreateThing made a new thing")
	}
	_, err := c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev-1")})
	var exists *types.ResourceAlreadyExistsException
	wantCode(t, err, "ResourceAlreadyExistsException")
	if !asErr(err, &exists) || *exists.ResourceId != *out.ThingId || *exists.ResourceArn != *out.ThingArn {
		t.Fatalf("ResourceAlreadyExistsException without resourceId/resourceArn: %v", err)
	}
	d := must(c.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("dev-1")}))
	if d.Attributes["model"] != "m1" || d.Version != 1 || *d.DefaultClientId != "dev-1" {
		t.Fatalf("DescribeThing: %+v", d)
	}
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev-2")}))
	l := must(c.ListThings(ctx, &sdkiot.ListThingsInput{AttributeName: aws.String("model"), AttributeValue: aws.String("m1")}))
	if len(l.Things) != 1 || *l.Things[0].ThingName != "dev-1" {
		t.Fatalf("ListThings by attribute: %+v", l.Things)
	}
	_, err = c.DeleteThing(ctx, &sdkiot.DeleteThingInput{ThingName: aws.String("dev-1"), ExpectedVersion: aws.Int64(7)})
	wantCode(t, err, "VersionConflictException")
	must(c.DeleteThing(ctx, &sdkiot.DeleteThingInput{ThingName: aws.String("dev-1")}))
	_, err = c.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("dev-1")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("bad name!")})
	wantCode(t, err, "InvalidRequestException")
}

func TestThingGroups(t *testing.T) {
	f := start(t)
	c := f.client
	things := f.group(t, "fleet", 25)
	g := must(c.DescribeThingGroup(ctx, &sdkiot.DescribeThingGroupInput{ThingGroupName: aws.String("fleet")}))
	if *g.ThingGroupArn != groupArn("fleet") || g.ThingGroupMetadata.CreationDate == nil {
		t.Fatalf("DescribeThingGroup: %+v", g)
	}
	// A child group: its things are in the parent's recursive listing.
	must(c.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("canary"), ParentGroupName: aws.String("fleet"),
		ThingGroupProperties: &types.ThingGroupProperties{ThingGroupDescription: aws.String("first wave")},
		Tags:                 []types.Tag{{Key: aws.String("team"), Value: aws.String("fw")}}}))
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("canary-0")}))
	must(c.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingGroupArn: aws.String(groupArn("canary")), ThingArn: aws.String(thingArn("canary-0"))}))
	cg := must(c.DescribeThingGroup(ctx, &sdkiot.DescribeThingGroupInput{ThingGroupName: aws.String("canary")}))
	if *cg.ThingGroupMetadata.ParentGroupName != "fleet" || len(cg.ThingGroupMetadata.RootToParentThingGroups) != 1 ||
		*cg.ThingGroupProperties.ThingGroupDescription != "first wave" {
		t.Fatalf("child group: %+v", cg.ThingGroupMetadata)
	}
	_, err := c.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("canary")})
	ae := wantCode(t, err, "ResourceAlreadyExistsException")
	_ = ae

	// Pagination: 25 things, pages of 10.
	var got []string
	p := sdkiot.NewListThingsInThingGroupPaginator(c, &sdkiot.ListThingsInThingGroupInput{ThingGroupName: aws.String("fleet"), MaxResults: aws.Int32(10)})
	pages := 0
	for p.HasMorePages() {
		got = append(got, must(p.NextPage(ctx)).Things...)
		pages++
	}
	if fmt.Sprint(got) != fmt.Sprint(things) || pages != 3 {
		t.Fatalf("paged listing: %d pages, %v", pages, got)
	}
	rec := must(c.ListThingsInThingGroup(ctx, &sdkiot.ListThingsInThingGroupInput{ThingGroupName: aws.String("fleet"), Recursive: true, MaxResults: aws.Int32(100)}))
	if len(rec.Things) != 26 || !sort.StringsAreSorted(rec.Things) {
		t.Fatalf("recursive listing has %d things", len(rec.Things))
	}
	gl := must(c.ListThingGroups(ctx, &sdkiot.ListThingGroupsInput{ParentGroup: aws.String("fleet")}))
	if len(gl.ThingGroups) != 1 || *gl.ThingGroups[0].GroupName != "canary" {
		t.Fatalf("ListThingGroups(parent): %+v", gl.ThingGroups)
	}
	if pre := must(c.ListThingGroups(ctx, &sdkiot.ListThingGroupsInput{NamePrefixFilter: aws.String("can")})); len(pre.ThingGroups) != 1 {
		t.Fatalf("ListThingGroups(prefix): %+v", pre.ThingGroups)
	}
	all := must(c.ListThingGroups(ctx, &sdkiot.ListThingGroupsInput{}))
	if len(all.ThingGroups) != 2 {
		t.Fatalf("ListThingGroups: %+v", all.ThingGroups)
	}

	must(c.RemoveThingFromThingGroup(ctx, &sdkiot.RemoveThingFromThingGroupInput{ThingGroupName: aws.String("fleet"), ThingName: aws.String(things[0])}))
	l := must(c.ListThingsInThingGroup(ctx, &sdkiot.ListThingsInThingGroupInput{ThingGroupName: aws.String("fleet")}))
	if len(l.Things) != 24 || l.Things[0] == things[0] {
		t.Fatalf("after remove: %v", l.Things)
	}
	_, err = c.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingGroupName: aws.String("fleet"), ThingName: aws.String("nobody")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = c.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingGroupName: aws.String("nogroup"), ThingName: aws.String(things[1])})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = c.ListThingsInThingGroup(ctx, &sdkiot.ListThingsInThingGroupInput{ThingGroupName: aws.String("nogroup")})
	wantCode(t, err, "ResourceNotFoundException")

	// A parent with children cannot go; the child can, then the parent.
	_, err = c.DeleteThingGroup(ctx, &sdkiot.DeleteThingGroupInput{ThingGroupName: aws.String("fleet")})
	wantCode(t, err, "InvalidRequestException")
	must(c.DeleteThingGroup(ctx, &sdkiot.DeleteThingGroupInput{ThingGroupName: aws.String("canary")}))
	must(c.DeleteThingGroup(ctx, &sdkiot.DeleteThingGroupInput{ThingGroupName: aws.String("fleet")}))
	_, err = c.DescribeThingGroup(ctx, &sdkiot.DescribeThingGroupInput{ThingGroupName: aws.String("fleet")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestDescribeEndpoint(t *testing.T) {
	f := start(t)
	e := must(f.client.DescribeEndpoint(ctx, &sdkiot.DescribeEndpointInput{EndpointType: aws.String("iot:Data-ATS")}))
	if *e.EndpointAddress != "127.0.0.1" {
		t.Fatalf("default endpoint %q", *e.EndpointAddress)
	}
	f.svc.SetEndpoint("", "127.0.0.1:8883")
	f.svc.SetEndpoint("iot:Jobs", "127.0.0.1:1883")
	if e := must(f.client.DescribeEndpoint(ctx, &sdkiot.DescribeEndpointInput{EndpointType: aws.String("iot:Data-ATS")})); *e.EndpointAddress != "127.0.0.1:8883" {
		t.Fatalf("endpoint %q", *e.EndpointAddress)
	}
	if e := must(f.client.DescribeEndpoint(ctx, &sdkiot.DescribeEndpointInput{EndpointType: aws.String("iot:Jobs")})); *e.EndpointAddress != "127.0.0.1:1883" {
		t.Fatalf("jobs endpoint %q", *e.EndpointAddress)
	}
	_, err := f.client.DescribeEndpoint(ctx, &sdkiot.DescribeEndpointInput{EndpointType: aws.String("iot:Nope")})
	wantCode(t, err, "InvalidRequestException")
}

func TestBadRequests(t *testing.T) {
	f := start(t)
	f.group(t, "g", 1)
	for _, tc := range []struct {
		method, path, body, code string
		status                   int
	}{
		{"POST", "/things/x", `{"thingTypeName":`, "InvalidRequestException", 400},
		{"POST", "/things/x", `{"color":"red"}`, "InvalidRequestException", 400},
		{"POST", "/things/x", `{"attributePayload":{"attributes":[1]}}`, "InvalidRequestException", 400},
		{"PUT", "/jobs/j1", `{"targets":"not-a-list","document":"{}"}`, "InvalidRequestException", 400},
		{"PUT", "/jobs/j1", `{"targets":["` + groupArn("g") + `"],"document":"{}","timeoutConfig":{"inProgressTimeoutInMinutes":"ten"}}`, "InvalidRequestException", 400},
		{"PUT", "/jobs/j1", `{"targets":["` + groupArn("g") + `"],"document":"{}","bogus":1}`, "InvalidRequestException", 400},
		{"POST", "/streams/s1", `[]`, "InvalidRequestException", 400},
		{"GET", "/jobs?maxResults=0", ``, "InvalidRequestException", 400},
		{"GET", "/jobs?nextToken=!!!", ``, "InvalidRequestException", 400},
		{"GET", "/things/x/jobs?status=DONE", ``, "InvalidRequestException", 400},
		{"GET", "/nothing-here", ``, "UnknownOperationException", 404},
		{"POST", "/jobs/j1", ``, "UnknownOperationException", 404},
	} {
		status, code, body := f.raw(t, tc.method, tc.path, tc.body)
		if status != tc.status || code != tc.code {
			t.Errorf("%s %s %s: %d %s %s", tc.method, tc.path, tc.body, status, code, body)
		}
	}
	if status, _, _ := f.raw(t, "GET", "/things/x", ""); status != http.StatusNotFound {
		t.Fatal("missing thing is not a 404")
	}
}
