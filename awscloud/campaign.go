package awscloud

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/campaign"
	"github.com/otactl/otactl/ota"
)

// What campaigns need beyond ota.Cloud: thing group membership (shares are
// materialised as static groups). Tags, the campaign's only state, go
// through TagResource and ListTags, which ota.Cloud has too.

var _ campaign.Cloud = (*Cloud)(nil)

// ListThingsInThingGroup lists a group's things, child groups included.
func (c *Cloud) ListThingsInThingGroup(ctx context.Context, group string) ([]string, error) {
	var out []string
	p := iot.NewListThingsInThingGroupPaginator(c.iot, &iot.ListThingsInThingGroupInput{ThingGroupName: &group, Recursive: true})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap(err)
		}
		out = append(out, page.Things...)
	}
	return out, nil
}

// CreateThingGroup creates a static thing group with tags.
func (c *Cloud) CreateThingGroup(ctx context.Context, name, description string, tags []ota.Tag) error {
	in := &iot.CreateThingGroupInput{ThingGroupName: &name, Tags: iotTags(tags)}
	if description != "" {
		in.ThingGroupProperties = &types.ThingGroupProperties{ThingGroupDescription: aws.String(description)}
	}
	_, err := c.iot.CreateThingGroup(ctx, in)
	return wrap(err)
}

// AddThingToThingGroup adds a thing to a static group.
func (c *Cloud) AddThingToThingGroup(ctx context.Context, group, thing string) error {
	_, err := c.iot.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: &group, ThingName: &thing})
	return wrap(err)
}
