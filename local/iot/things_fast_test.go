package iot_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/aws/smithy-go"
)

// TestConcurrentRegistrationSharesCommits: many SDK clients creating things
// and adding them to a group at once (the writes share transactions, see
// things_fast.go) each get their own answer: every thing exists once and is
// a member; a CreateThing that conflicts with one created in the same
// burst fails alone with ResourceAlreadyExistsException, and the others in
// its transaction are kept; adding a missing thing fails alone too.
func TestConcurrentRegistrationSharesCommits(t *testing.T) {
	f := start(t)
	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("burst")}))
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			thing := fmt.Sprintf("burst-%03d", i)
			if _, err := f.client.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String(thing)}); err != nil {
				errs <- fmt.Errorf("CreateThing %s: %w", thing, err)
				return
			}
			if _, err := f.client.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingName: aws.String(thing), ThingGroupName: aws.String("burst")}); err != nil {
				errs <- fmt.Errorf("AddThingToThingGroup %s: %w", thing, err)
			}
			// The same name again with attributes: a different thing.
			_, err := f.client.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String(thing),
				AttributePayload: &types.AttributePayload{Attributes: map[string]string{"k": "v"}}})
			if code := errorCode(err); code != "ResourceAlreadyExistsException" {
				errs <- fmt.Errorf("CreateThing %s with other attributes: %v, want ResourceAlreadyExistsException", thing, err)
				return
			}
			_, err = f.client.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingName: aws.String(thing + "-missing"), ThingGroupName: aws.String("burst")})
			if code := errorCode(err); code != "ResourceNotFoundException" {
				errs <- fmt.Errorf("adding the missing thing %s-missing: %v, want ResourceNotFoundException", thing, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	members := map[string]bool{}
	p := sdkiot.NewListThingsInThingGroupPaginator(f.client, &sdkiot.ListThingsInThingGroupInput{ThingGroupName: aws.String("burst")})
	for p.HasMorePages() {
		for _, th := range must(p.NextPage(ctx)).Things {
			members[th] = true
		}
	}
	for i := 0; i < n; i++ {
		thing := fmt.Sprintf("burst-%03d", i)
		d := must(f.client.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String(thing)}))
		if len(d.Attributes) != 0 || !members[thing] {
			t.Errorf("%s: attributes %v, member %v", thing, d.Attributes, members[thing])
		}
	}
	if len(members) != n {
		t.Errorf("%d members, want %d", len(members), n)
	}
}

// errorCode is an AWS API error's code ("" for none), safe off the test's
// goroutine.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
