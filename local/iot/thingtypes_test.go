package iot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

func thingTypeArn(name string) string { return env.ARN("iot", "thingtype/"+name) }

// TestThingTypes: create (idempotent, conflicting), describe, list with
// and without the name filter, tags, and the property limits.
func TestThingTypes(t *testing.T) {
	f := start(t)
	c := f.client
	props := &types.ThingTypeProperties{ThingTypeDescription: aws.String("light bulbs"), SearchableAttributes: []string{"model", "wattage"},
		Mqtt5Configuration: &types.Mqtt5Configuration{PropagatingAttributes: []types.PropagatingAttribute{
			{UserPropertyKey: aws.String("model"), ThingAttribute: aws.String("model")},
			{UserPropertyKey: aws.String("client"), ConnectionAttribute: aws.String("iot:ClientId")}}}}
	out := must(c.CreateThingType(ctx, &sdkiot.CreateThingTypeInput{ThingTypeName: aws.String("bulb"), ThingTypeProperties: props,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("fw")}}}))
	if *out.ThingTypeArn != thingTypeArn("bulb") || *out.ThingTypeId == "" {
		t.Fatalf("CreateThingType: %+v", out)
	}
	again := must(c.CreateThingType(ctx, &sdkiot.CreateThingTypeInput{ThingTypeName: aws.String("bulb"), ThingTypeProperties: props}))
	if *again.ThingTypeId != *out.ThingTypeId {
		t.Fatal("an identical CreateThingType made a new type")
	}
	_, err := c.CreateThingType(ctx, &sdkiot.CreateThingTypeInput{ThingTypeName: aws.String("bulb")})
	wantCode(t, err, "ResourceAlreadyExistsException")

	d := must(c.DescribeThingType(ctx, &sdkiot.DescribeThingTypeInput{ThingTypeName: aws.String("bulb")}))
	if *d.ThingTypeId != *out.ThingTypeId || *d.ThingTypeArn != thingTypeArn("bulb") ||
		*d.ThingTypeProperties.ThingTypeDescription != "light bulbs" || len(d.ThingTypeProperties.SearchableAttributes) != 2 ||
		*d.ThingTypeProperties.Mqtt5Configuration.PropagatingAttributes[1].ConnectionAttribute != "iot:ClientId" ||
		d.ThingTypeMetadata.Deprecated || d.ThingTypeMetadata.CreationDate == nil || d.ThingTypeMetadata.DeprecationDate != nil {
		t.Fatalf("DescribeThingType: %+v %+v", d.ThingTypeProperties, d.ThingTypeMetadata)
	}
	tags := must(c.ListTagsForResource(ctx, &sdkiot.ListTagsForResourceInput{ResourceArn: aws.String(thingTypeArn("bulb"))}))
	if len(tags.Tags) != 1 || *tags.Tags[0].Key != "team" {
		t.Fatalf("thing type tags: %+v", tags.Tags)
	}
	_, err = c.DescribeThingType(ctx, &sdkiot.DescribeThingTypeInput{ThingTypeName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")

	must(c.CreateThingType(ctx, &sdkiot.CreateThingTypeInput{ThingTypeName: aws.String("switch")}))
	l := must(c.ListThingTypes(ctx, &sdkiot.ListThingTypesInput{}))
	if len(l.ThingTypes) != 2 || *l.ThingTypes[0].ThingTypeName != "bulb" || *l.ThingTypes[0].ThingTypeArn != thingTypeArn("bulb") ||
		l.ThingTypes[0].ThingTypeMetadata.CreationDate == nil {
		t.Fatalf("ListThingTypes: %+v", l.ThingTypes)
	}
	one := must(c.ListThingTypes(ctx, &sdkiot.ListThingTypesInput{ThingTypeName: aws.String("switch")}))
	if len(one.ThingTypes) != 1 || *one.ThingTypes[0].ThingTypeName != "switch" {
		t.Fatalf("ListThingTypes(switch): %+v", one.ThingTypes)
	}
	paged := must(c.ListThingTypes(ctx, &sdkiot.ListThingTypesInput{MaxResults: aws.Int32(1)}))
	if len(paged.ThingTypes) != 1 || paged.NextToken == nil {
		t.Fatalf("ListThingTypes page: %+v", paged)
	}

	for _, bad := range []*types.ThingTypeProperties{
		{SearchableAttributes: []string{"a", "b", "c", "d"}},
		{SearchableAttributes: []string{"has space"}},
		{ThingTypeDescription: aws.String(strings.Repeat("d", 2029))},
		{Mqtt5Configuration: &types.Mqtt5Configuration{PropagatingAttributes: []types.PropagatingAttribute{{UserPropertyKey: aws.String("no space")}}}},
	} {
		_, err := c.CreateThingType(ctx, &sdkiot.CreateThingTypeInput{ThingTypeName: aws.String("bad"), ThingTypeProperties: bad})
		wantCode(t, err, "InvalidRequestException")
	}
	_, err = c.DescribeThingType(ctx, &sdkiot.DescribeThingTypeInput{ThingTypeName: aws.String("bad")})
	wantCode(t, err, "ResourceNotFoundException")

	// UpdateThingType changes what it is given and keeps the rest.
	must(c.UpdateThingType(ctx, &sdkiot.UpdateThingTypeInput{ThingTypeName: aws.String("bulb"),
		ThingTypeProperties: &types.ThingTypeProperties{SearchableAttributes: []string{"color"}}}))
	d = must(c.DescribeThingType(ctx, &sdkiot.DescribeThingTypeInput{ThingTypeName: aws.String("bulb")}))
	if len(d.ThingTypeProperties.SearchableAttributes) != 1 || *d.ThingTypeProperties.ThingTypeDescription != "light bulbs" {
		t.Fatalf("after UpdateThingType: %+v", d.ThingTypeProperties)
	}
	_, err = c.UpdateThingType(ctx, &sdkiot.UpdateThingTypeInput{ThingTypeName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
}

// TestThingsWithTypes: thingTypeName on CreateThing, DescribeThing,
// ListThings and UpdateThing (set, remove, both refused), and the type's
// existence and deprecation checked.
func TestThingsWithTypes(t *testing.T) {
	f := start(t)
	c := f.client
	must(c.CreateThingType(ctx, &sdkiot.CreateThingTypeInput{ThingTypeName: aws.String("bulb")}))
	must(c.CreateThingType(ctx, &sdkiot.CreateThingTypeInput{ThingTypeName: aws.String("switch")}))
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("b1"), ThingTypeName: aws.String("bulb"), AttributePayload: attrs("w", "75")}))
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("b2"), ThingTypeName: aws.String("bulb"), AttributePayload: attrs("w", "60")}))
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("s1"), ThingTypeName: aws.String("switch"), AttributePayload: attrs("w", "75")}))
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("plain")}))
	_, err := c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("x"), ThingTypeName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("x"), ThingTypeName: aws.String("no pe")})
	wantCode(t, err, "InvalidRequestException")

	if d := must(c.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("b1")})); aws.ToString(d.ThingTypeName) != "bulb" {
		t.Fatalf("DescribeThing type %v", d.ThingTypeName)
	}
	names := func(in *sdkiot.ListThingsInput) string {
		var out []string
		for _, th := range must(c.ListThings(ctx, in)).Things {
			out = append(out, *th.ThingName+":"+aws.ToString(th.ThingTypeName))
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		in   *sdkiot.ListThingsInput
		want string
	}{
		{&sdkiot.ListThingsInput{ThingTypeName: aws.String("bulb")}, "b1:bulb b2:bulb"},
		{&sdkiot.ListThingsInput{ThingTypeName: aws.String("bulb"), AttributeName: aws.String("w"), AttributeValue: aws.String("75")}, "b1:bulb"},
		{&sdkiot.ListThingsInput{AttributeName: aws.String("w"), AttributeValue: aws.String("7"), UsePrefixAttributeValue: true}, "b1:bulb s1:switch"},
		{&sdkiot.ListThingsInput{AttributeName: aws.String("w"), AttributeValue: aws.String("7")}, ""},
		{&sdkiot.ListThingsInput{ThingTypeName: aws.String("nope")}, ""},
	} {
		if got := names(tc.in); got != tc.want {
			t.Errorf("ListThings(%+v) = %q, want %q", *tc.in, got, tc.want)
		}
	}

	// UpdateThing moves a thing between types, and takes its type away.
	must(c.UpdateThing(ctx, &sdkiot.UpdateThingInput{ThingName: aws.String("b2"), ThingTypeName: aws.String("switch")}))
	if got := names(&sdkiot.ListThingsInput{ThingTypeName: aws.String("switch")}); got != "b2:switch s1:switch" {
		t.Fatalf("after UpdateThing(thingTypeName): %q", got)
	}
	_, err = c.UpdateThing(ctx, &sdkiot.UpdateThingInput{ThingName: aws.String("b2"), ThingTypeName: aws.String("bulb"), RemoveThingType: true})
	wantCode(t, err, "InvalidRequestException")
	_, err = c.UpdateThing(ctx, &sdkiot.UpdateThingInput{ThingName: aws.String("b2"), ThingTypeName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
	must(c.UpdateThing(ctx, &sdkiot.UpdateThingInput{ThingName: aws.String("b2"), RemoveThingType: true}))
	if d := must(c.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("b2")})); d.ThingTypeName != nil || d.Version != 3 {
		t.Fatalf("after removeThingType: %v version %d", d.ThingTypeName, d.Version)
	}

	// A deprecated type takes no new thing, by CreateThing or UpdateThing;
	// things that have it keep it. undoDeprecate makes it usable again.
	must(c.DeprecateThingType(ctx, &sdkiot.DeprecateThingTypeInput{ThingTypeName: aws.String("bulb")}))
	d := must(c.DescribeThingType(ctx, &sdkiot.DescribeThingTypeInput{ThingTypeName: aws.String("bulb")}))
	if !d.ThingTypeMetadata.Deprecated || d.ThingTypeMetadata.DeprecationDate == nil {
		t.Fatalf("deprecated metadata: %+v", d.ThingTypeMetadata)
	}
	_, err = c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("b3"), ThingTypeName: aws.String("bulb")})
	wantCode(t, err, "InvalidRequestException")
	_, err = c.UpdateThing(ctx, &sdkiot.UpdateThingInput{ThingName: aws.String("plain"), ThingTypeName: aws.String("bulb")})
	wantCode(t, err, "InvalidRequestException")
	must(c.UpdateThing(ctx, &sdkiot.UpdateThingInput{ThingName: aws.String("b1"), AttributePayload: attrs("w", "100")}))
	must(c.DeprecateThingType(ctx, &sdkiot.DeprecateThingTypeInput{ThingTypeName: aws.String("bulb"), UndoDeprecate: true}))
	d = must(c.DescribeThingType(ctx, &sdkiot.DescribeThingTypeInput{ThingTypeName: aws.String("bulb")}))
	if d.ThingTypeMetadata.Deprecated || d.ThingTypeMetadata.DeprecationDate != nil {
		t.Fatalf("undeprecated metadata: %+v", d.ThingTypeMetadata)
	}
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("b3"), ThingTypeName: aws.String("bulb")}))
	_, err = c.DeprecateThingType(ctx, &sdkiot.DeprecateThingTypeInput{ThingTypeName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
}

// TestDeleteThingType: only a type deprecated five minutes ago (on the
// service clock) and no longer given to any thing can be deleted.
func TestDeleteThingType(t *testing.T) {
	f := start(t)
	c := f.client
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.svc.Now = func() time.Time { return now }
	must(c.CreateThingType(ctx, &sdkiot.CreateThingTypeInput{ThingTypeName: aws.String("bulb")}))
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("b1"), ThingTypeName: aws.String("bulb")}))

	_, err := c.DeleteThingType(ctx, &sdkiot.DeleteThingTypeInput{ThingTypeName: aws.String("bulb")})
	if ae := wantCode(t, err, "InvalidRequestException"); !strings.Contains(ae.ErrorMessage(), "not deprecated") {
		t.Fatalf("message: %s", ae.ErrorMessage())
	}
	must(c.DeprecateThingType(ctx, &sdkiot.DeprecateThingTypeInput{ThingTypeName: aws.String("bulb")}))
	now = now.Add(4*time.Minute + 59*time.Second)
	_, err = c.DeleteThingType(ctx, &sdkiot.DeleteThingTypeInput{ThingTypeName: aws.String("bulb")})
	if ae := wantCode(t, err, "InvalidRequestException"); !strings.Contains(ae.ErrorMessage(), "less than 5m0s ago") {
		t.Fatalf("message: %s", ae.ErrorMessage())
	}
	now = now.Add(time.Second)
	_, err = c.DeleteThingType(ctx, &sdkiot.DeleteThingTypeInput{ThingTypeName: aws.String("bulb")})
	if ae := wantCode(t, err, "InvalidRequestException"); !strings.Contains(ae.ErrorMessage(), "still associated with thing b1") {
		t.Fatalf("message: %s", ae.ErrorMessage())
	}
	must(c.UpdateThing(ctx, &sdkiot.UpdateThingInput{ThingName: aws.String("b1"), RemoveThingType: true}))
	must(c.DeleteThingType(ctx, &sdkiot.DeleteThingTypeInput{ThingTypeName: aws.String("bulb")}))
	_, err = c.DescribeThingType(ctx, &sdkiot.DescribeThingTypeInput{ThingTypeName: aws.String("bulb")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = c.DeleteThingType(ctx, &sdkiot.DeleteThingTypeInput{ThingTypeName: aws.String("bulb")})
	wantCode(t, err, "ResourceNotFoundException")
	// The name is free again; the tags went with the type.
	must(c.CreateThingType(ctx, &sdkiot.CreateThingTypeInput{ThingTypeName: aws.String("bulb")}))
}
