package iot_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

// hierarchy creates root > mid > leaf, root > other and a second root
// "solo", and returns the fixture.
func hierarchy(t *testing.T) *fixture {
	f := start(t)
	for _, g := range [][2]string{{"root", ""}, {"mid", "root"}, {"leaf", "mid"}, {"other", "root"}, {"solo", ""}} {
		in := &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String(g[0])}
		if g[1] != "" {
			in.ParentGroupName = aws.String(g[1])
		}
		must(f.client.CreateThingGroup(ctx, in))
	}
	return f
}

func groupNames(gs []types.GroupNameAndArn) string {
	var names []string
	for _, g := range gs {
		names = append(names, *g.GroupName)
	}
	return fmt.Sprint(names)
}

// TestListThingGroupsHierarchy: recursive=false lists the root groups (or a
// parent's direct children) only; namePrefixFilter narrows either.
func TestListThingGroupsHierarchy(t *testing.T) {
	f := hierarchy(t)
	for _, tc := range []struct {
		in   sdkiot.ListThingGroupsInput
		want string
	}{
		{sdkiot.ListThingGroupsInput{}, "[leaf mid other root solo]"},
		{sdkiot.ListThingGroupsInput{Recursive: aws.Bool(true)}, "[leaf mid other root solo]"},
		{sdkiot.ListThingGroupsInput{Recursive: aws.Bool(false)}, "[root solo]"},
		{sdkiot.ListThingGroupsInput{Recursive: aws.Bool(false), NamePrefixFilter: aws.String("r")}, "[root]"},
		{sdkiot.ListThingGroupsInput{Recursive: aws.Bool(false), NamePrefixFilter: aws.String("m")}, "[]"},
		{sdkiot.ListThingGroupsInput{NamePrefixFilter: aws.String("m")}, "[mid]"},
		{sdkiot.ListThingGroupsInput{ParentGroup: aws.String("root")}, "[leaf mid other]"},
		{sdkiot.ListThingGroupsInput{ParentGroup: aws.String("root"), Recursive: aws.Bool(false)}, "[mid other]"},
		{sdkiot.ListThingGroupsInput{ParentGroup: aws.String("root"), Recursive: aws.Bool(false), NamePrefixFilter: aws.String("o")}, "[other]"},
		{sdkiot.ListThingGroupsInput{ParentGroup: aws.String("root"), NamePrefixFilter: aws.String("l")}, "[leaf]"},
		{sdkiot.ListThingGroupsInput{ParentGroup: aws.String("leaf")}, "[]"},
	} {
		out := must(f.client.ListThingGroups(ctx, &tc.in))
		if got := groupNames(out.ThingGroups); got != tc.want {
			t.Errorf("ListThingGroups(parent=%v recursive=%v prefix=%v) = %s, want %s",
				aws.ToString(tc.in.ParentGroup), tc.in.Recursive, aws.ToString(tc.in.NamePrefixFilter), got, tc.want)
		}
	}
	// Root groups page like any listing.
	var got []types.GroupNameAndArn
	p := sdkiot.NewListThingGroupsPaginator(f.client, &sdkiot.ListThingGroupsInput{Recursive: aws.Bool(false), MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		got = append(got, must(p.NextPage(ctx)).ThingGroups...)
	}
	if groupNames(got) != "[root solo]" {
		t.Fatalf("paged root groups: %s", groupNames(got))
	}
	_, err := f.client.ListThingGroups(ctx, &sdkiot.ListThingGroupsInput{ParentGroup: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
}

// TestDescribeThingGroupMetadata: a root group has only its creation date;
// a child its parent and the chain from the root down to the parent.
func TestDescribeThingGroupMetadata(t *testing.T) {
	f := hierarchy(t)
	root := must(f.client.DescribeThingGroup(ctx, &sdkiot.DescribeThingGroupInput{ThingGroupName: aws.String("root")}))
	if m := root.ThingGroupMetadata; m.CreationDate == nil || m.ParentGroupName != nil || m.RootToParentThingGroups != nil {
		t.Fatalf("root metadata: %+v", m)
	}
	// The raw body: a root group's metadata has no rootToParentThingGroups key.
	if _, _, body := f.raw(t, "GET", "/thing-groups/root", ""); strings.Contains(body, "rootToParentThingGroups") || strings.Contains(body, "parentGroupName") {
		t.Fatalf("root group body: %s", body)
	}
	leaf := must(f.client.DescribeThingGroup(ctx, &sdkiot.DescribeThingGroupInput{ThingGroupName: aws.String("leaf")}))
	m := leaf.ThingGroupMetadata
	if aws.ToString(m.ParentGroupName) != "mid" || groupNames(m.RootToParentThingGroups) != "[root mid]" ||
		*m.RootToParentThingGroups[0].GroupArn != groupArn("root") || *m.RootToParentThingGroups[1].GroupArn != groupArn("mid") {
		t.Fatalf("leaf metadata: %+v", m)
	}
}

// TestUpdateThingGroup: description, attribute merge and replace, the
// version it answers and expectedVersion.
func TestUpdateThingGroup(t *testing.T) {
	f := start(t)
	c := f.client
	must(c.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("g"),
		ThingGroupProperties: &types.ThingGroupProperties{ThingGroupDescription: aws.String("first"), AttributePayload: attrs("a", "1", "b", "2")}}))
	p := attrs("a", "", "c", "3")
	p.Merge = true
	out := must(c.UpdateThingGroup(ctx, &sdkiot.UpdateThingGroupInput{ThingGroupName: aws.String("g"), ExpectedVersion: aws.Int64(1),
		ThingGroupProperties: &types.ThingGroupProperties{AttributePayload: p}}))
	if out.Version != 2 {
		t.Fatalf("UpdateThingGroup version %d", out.Version)
	}
	d := must(c.DescribeThingGroup(ctx, &sdkiot.DescribeThingGroupInput{ThingGroupName: aws.String("g")}))
	if fmt.Sprint(d.ThingGroupProperties.AttributePayload.Attributes) != "map[b:2 c:3]" || d.Version != 2 ||
		aws.ToString(d.ThingGroupProperties.ThingGroupDescription) != "first" {
		t.Fatalf("after merge: %+v version %d", d.ThingGroupProperties, d.Version)
	}
	out = must(c.UpdateThingGroup(ctx, &sdkiot.UpdateThingGroupInput{ThingGroupName: aws.String("g"),
		ThingGroupProperties: &types.ThingGroupProperties{ThingGroupDescription: aws.String("second"), AttributePayload: attrs("z", "9")}}))
	d = must(c.DescribeThingGroup(ctx, &sdkiot.DescribeThingGroupInput{ThingGroupName: aws.String("g")}))
	if out.Version != 3 || fmt.Sprint(d.ThingGroupProperties.AttributePayload.Attributes) != "map[z:9]" ||
		aws.ToString(d.ThingGroupProperties.ThingGroupDescription) != "second" {
		t.Fatalf("after replace: %+v version %d", d.ThingGroupProperties, out.Version)
	}
	_, err := c.UpdateThingGroup(ctx, &sdkiot.UpdateThingGroupInput{ThingGroupName: aws.String("g"), ExpectedVersion: aws.Int64(2),
		ThingGroupProperties: &types.ThingGroupProperties{ThingGroupDescription: aws.String("third")}})
	wantCode(t, err, "VersionConflictException")
	d = must(c.DescribeThingGroup(ctx, &sdkiot.DescribeThingGroupInput{ThingGroupName: aws.String("g")}))
	if d.Version != 3 || aws.ToString(d.ThingGroupProperties.ThingGroupDescription) != "second" {
		t.Fatalf("a refused update changed the group: %+v", d)
	}
	_, err = c.UpdateThingGroup(ctx, &sdkiot.UpdateThingGroupInput{ThingGroupName: aws.String("nope"), ThingGroupProperties: &types.ThingGroupProperties{}})
	wantCode(t, err, "ResourceNotFoundException")
	if status, code, _ := f.raw(t, "PATCH", "/thing-groups/g", `{}`); status != 400 || code != "InvalidRequestException" {
		t.Fatalf("UpdateThingGroup without thingGroupProperties: %d %s", status, code)
	}
}
