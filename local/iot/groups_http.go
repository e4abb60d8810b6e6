package iot

import (
	"net/http"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// The wire of the thing group operations (groups.go holds the rules):
// parsing and rendering only.

// thingGroupProperties is AWS's ThingGroupProperties.
type thingGroupProperties struct {
	ThingGroupDescription *string           `json:"thingGroupDescription,omitempty"`
	AttributePayload      *attributePayload `json:"attributePayload,omitempty"`
}

// createThingGroup: POST /thing-groups/{thingGroupName}.
func (s *Service) createThingGroup(r *http.Request) (any, error) {
	var in struct {
		ParentGroupName      string                `json:"parentGroupName"`
		Tags                 []ota.Tag             `json:"tags"`
		ThingGroupProperties *thingGroupProperties `json:"thingGroupProperties"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var desc string
	var attrs map[string]string
	if p := in.ThingGroupProperties; p != nil {
		if p.ThingGroupDescription != nil {
			desc = *p.ThingGroupDescription
		}
		if p.AttributePayload != nil {
			attrs = p.AttributePayload.Attributes
		}
	}
	g, err := s.CreateThingGroup(r.PathValue("thingGroupName"), in.ParentGroupName, desc, attrs, in.Tags)
	if err != nil {
		return nil, err
	}
	return map[string]string{"thingGroupName": g.Name, "thingGroupArn": g.Arn, "thingGroupId": g.ID}, nil
}

type thingGroupMetadata struct {
	ParentGroupName string `json:"parentGroupName,omitempty"`
	// RootToParentThingGroups: the ancestors, the root first; absent for a
	// root group, as AWS sends it.
	RootToParentThingGroups []groupNameAndArn `json:"rootToParentThingGroups,omitempty"`
	CreationDate            *float64          `json:"creationDate,omitempty"`
}

type thingGroupOut struct {
	ThingGroupName       string             `json:"thingGroupName"`
	ThingGroupID         string             `json:"thingGroupId"`
	ThingGroupArn        string             `json:"thingGroupArn"`
	Version              int64              `json:"version"`
	ThingGroupProperties any                `json:"thingGroupProperties"`
	ThingGroupMetadata   thingGroupMetadata `json:"thingGroupMetadata"`
}

// describeThingGroup: GET /thing-groups/{thingGroupName}.
func (s *Service) describeThingGroup(r *http.Request) (any, error) {
	g, chain, err := s.DescribeThingGroup(r.PathValue("thingGroupName"))
	if err != nil {
		return nil, err
	}
	props := struct {
		ThingGroupDescription string `json:"thingGroupDescription,omitempty"`
		AttributePayload      struct {
			Attributes map[string]string `json:"attributes"`
		} `json:"attributePayload"`
	}{ThingGroupDescription: g.Description}
	props.AttributePayload.Attributes = nonNil(g.Attributes)
	return thingGroupOut{g.Name, g.ID, g.Arn, g.Version, props,
		thingGroupMetadata{g.Parent, chain, at(g.CreatedAt)}}, nil
}

// updateThingGroup: PATCH /thing-groups/{thingGroupName}.
func (s *Service) updateThingGroup(r *http.Request) (any, error) {
	var in struct {
		ThingGroupProperties *thingGroupProperties `json:"thingGroupProperties"`
		ExpectedVersion      *int64                `json:"expectedVersion"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.ThingGroupProperties == nil {
		return nil, invalid("thingGroupProperties is required")
	}
	v, err := s.UpdateThingGroup(r.PathValue("thingGroupName"), ThingGroupUpdate{
		Description: in.ThingGroupProperties.ThingGroupDescription, Attributes: in.ThingGroupProperties.AttributePayload,
		ExpectedVersion: in.ExpectedVersion})
	if err != nil {
		return nil, err
	}
	return map[string]int64{"version": v}, nil
}

// deleteThingGroup: DELETE /thing-groups/{thingGroupName}?expectedVersion=.
func (s *Service) deleteThingGroup(r *http.Request) (any, error) {
	v, err := versionQuery(r, "expectedVersion")
	if err != nil {
		return nil, err
	}
	if err := s.DeleteThingGroup(r.PathValue("thingGroupName"), v); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// listThingGroups: GET /thing-groups?parentGroup=&namePrefixFilter=&recursive=.
// recursive is true when absent.
func (s *Service) listThingGroups(r *http.Request) (any, error) {
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := groupFilter{parent: q.Get("parentGroup"), prefix: q.Get("namePrefixFilter"), recursive: true}
	if q.Get("recursive") != "" {
		if f.recursive, err = boolQuery(r, "recursive"); err != nil {
			return nil, err
		}
	}
	return listView(s.st, "thingGroups", func(tx *store.Tx) ([]groupNameAndArn, string, error) {
		in, err := s.scope(tx, f)
		if err != nil {
			return nil, "", err
		}
		group := records(func(g *groupRec) (groupNameAndArn, bool) { return groupNameAndArn{g.Name, g.Arn}, true })
		return pageOf(tx, tGroups, f.prefix, p, func(k string, raw []byte) (groupNameAndArn, bool, error) {
			if in != nil && !in[k] {
				return groupNameAndArn{}, false, nil
			}
			return group(k, raw)
		})
	})
}

// addThingToThingGroup: PUT /thing-groups/addThingToThingGroup.
// overrideDynamicGroups is accepted and ignored (no dynamic groups).
func (s *Service) addThingToThingGroup(r *http.Request) (any, error) {
	var in membershipInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := s.AddThingToThingGroup(in); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// removeThingFromThingGroup: PUT /thing-groups/removeThingFromThingGroup.
func (s *Service) removeThingFromThingGroup(r *http.Request) (any, error) {
	var in membershipInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := s.RemoveThingFromThingGroup(in); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// listThingsInThingGroup: GET /thing-groups/{thingGroupName}/things?recursive=.
func (s *Service) listThingsInThingGroup(r *http.Request) (any, error) {
	name := r.PathValue("thingGroupName")
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	recursive, err := boolQuery(r, "recursive")
	if err != nil {
		return nil, err
	}
	return listView(s.st, "things", func(tx *store.Tx) ([]string, string, error) {
		if _, err := s.getGroup(tx, name); err != nil {
			return nil, "", err
		}
		if !recursive {
			return pageOf(tx, tMembers, name+"/", p, keyRest(name+"/"))
		}
		// Recursive listings are small in practice: page over the sorted union.
		things, token := pageOfSorted(s.groupThings(tx, name, true), p)
		return things, token, nil
	})
}
