package iot_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
)

// The list operations page through the SDK's paginators, and an empty page
// is [] on the wire, not null.
func TestListPaging(t *testing.T) {
	f := start(t)
	things := f.group(t, "parent", 3)
	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("child"),
		ParentGroupName: aws.String("parent")}))
	must(f.client.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("lone")}))
	must(f.client.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingGroupName: aws.String("child"), ThingName: aws.String("lone")}))

	var names []string
	for pg := sdkiot.NewListThingsPaginator(f.client, &sdkiot.ListThingsInput{MaxResults: aws.Int32(2)}); pg.HasMorePages(); {
		out := must(pg.NextPage(ctx))
		if len(out.Things) > 2 {
			t.Fatalf("a page of %d things", len(out.Things))
		}
		for _, th := range out.Things {
			names = append(names, *th.ThingName)
		}
	}
	if want := append([]string{"lone"}, things...); !equal(names, want) {
		t.Fatalf("ListThings: %v, want %v", names, want)
	}

	names = nil
	for pg := sdkiot.NewListThingsInThingGroupPaginator(f.client, &sdkiot.ListThingsInThingGroupInput{
		ThingGroupName: aws.String("parent"), Recursive: true, MaxResults: aws.Int32(3)}); pg.HasMorePages(); {
		names = append(names, must(pg.NextPage(ctx)).Things...)
	}
	if want := append([]string{"lone"}, things...); !equal(names, want) { // sorted
		t.Fatalf("ListThingsInThingGroup (recursive): %v, want %v", names, want)
	}

	var groups []string
	for pg := sdkiot.NewListThingGroupsPaginator(f.client, &sdkiot.ListThingGroupsInput{
		ParentGroup: aws.String("parent"), MaxResults: aws.Int32(1)}); pg.HasMorePages(); {
		for _, g := range must(pg.NextPage(ctx)).ThingGroups {
			groups = append(groups, *g.GroupName)
		}
	}
	if !equal(groups, []string{"child"}) {
		t.Fatalf("ListThingGroups under parent: %v", groups)
	}

	status, _, body := f.raw(t, http.MethodGet, "/streams", "")
	if status != http.StatusOK || strings.TrimSpace(body) != `{"streams":[]}` {
		t.Fatalf("ListStreams with none: %d %s", status, body)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
