package iot

import (
	"net/http"
	"strconv"

	"github.com/otactl/otactl/local/store"
)

// The wire of the thing operations (things.go holds the rules): parsing
// and rendering only.

// versionQuery reads an optional integer query parameter such as
// expectedVersion.
func versionQuery(r *http.Request, name string) (*int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, invalid("%s must be an integer, got %q", name, v)
	}
	return &n, nil
}

// createThing: POST /things/{thingName}.
func (s *Service) createThing(r *http.Request) (any, error) {
	var in struct {
		ThingTypeName    string            `json:"thingTypeName"`
		AttributePayload *attributePayload `json:"attributePayload"`
		BillingGroupName string            `json:"billingGroupName"` // kept, not checked: no billing groups
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var attrs map[string]string
	if in.AttributePayload != nil {
		attrs = in.AttributePayload.Attributes
	}
	t, err := s.CreateThing(r.PathValue("thingName"), in.ThingTypeName, in.BillingGroupName, attrs)
	if err != nil {
		return nil, err
	}
	return map[string]string{"thingName": t.Name, "thingArn": t.Arn, "thingId": t.ID}, nil
}

type thingOut struct {
	ThingName        string            `json:"thingName"`
	ThingID          string            `json:"thingId"`
	ThingArn         string            `json:"thingArn"`
	ThingTypeName    string            `json:"thingTypeName,omitempty"`
	BillingGroupName string            `json:"billingGroupName,omitempty"`
	DefaultClientID  string            `json:"defaultClientId"`
	Version          int64             `json:"version"`
	Attributes       map[string]string `json:"attributes"`
}

// describeThing: GET /things/{thingName}.
func (s *Service) describeThing(r *http.Request) (any, error) {
	t, err := s.DescribeThing(r.PathValue("thingName"))
	if err != nil {
		return nil, err
	}
	return thingOut{t.Name, t.ID, t.Arn, t.TypeName, t.Billing, t.Name, t.Version, nonNil(t.Attributes)}, nil
}

// updateThing: PATCH /things/{thingName}.
func (s *Service) updateThing(r *http.Request) (any, error) {
	var in struct {
		ThingTypeName    string            `json:"thingTypeName"`
		AttributePayload *attributePayload `json:"attributePayload"`
		ExpectedVersion  *int64            `json:"expectedVersion"`
		RemoveThingType  bool              `json:"removeThingType"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	err := s.UpdateThing(r.PathValue("thingName"), ThingUpdate{TypeName: in.ThingTypeName, RemoveType: in.RemoveThingType,
		Attributes: in.AttributePayload, ExpectedVersion: in.ExpectedVersion})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// deleteThing: DELETE /things/{thingName}?expectedVersion=.
func (s *Service) deleteThing(r *http.Request) (any, error) {
	v, err := versionQuery(r, "expectedVersion")
	if err != nil {
		return nil, err
	}
	if err := s.DeleteThing(r.PathValue("thingName"), v); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type thingAttribute struct {
	ThingName     string            `json:"thingName"`
	ThingArn      string            `json:"thingArn"`
	ThingTypeName string            `json:"thingTypeName,omitempty"`
	Attributes    map[string]string `json:"attributes"`
	Version       int64             `json:"version"`
}

// listThings: GET /things. A thingTypeName that names no thing type lists
// nothing (the API reference lists no ResourceNotFoundException for
// ListThings), and attributeName with thingTypeName together is served.
func (s *Service) listThings(r *http.Request) (any, error) {
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := thingFilter{attrName: q.Get("attributeName"), attrValue: q.Get("attributeValue"), typeName: q.Get("thingTypeName")}
	if f.prefixValue, err = boolQuery(r, "usePrefixAttributeValue"); err != nil {
		return nil, err
	}
	return listView(s.st, "things", func(tx *store.Tx) ([]thingAttribute, string, error) {
		return pageOf(tx, tThings, "", p, records(func(t *thingRec) (thingAttribute, bool) {
			if !f.match(t) {
				return thingAttribute{}, false
			}
			return thingAttribute{t.Name, t.Arn, t.TypeName, nonNil(t.Attributes), t.Version}, true
		}))
	})
}

// listThingGroupsForThing: GET /things/{thingName}/thing-groups. The
// groups the thing was added to (not their ancestors), by name.
func (s *Service) listThingGroupsForThing(r *http.Request) (any, error) {
	thing := r.PathValue("thingName")
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	return listView(s.st, "thingGroups", func(tx *store.Tx) ([]groupNameAndArn, string, error) {
		if _, err := s.getThing(tx, thing); err != nil {
			return nil, "", err
		}
		return pageOf(tx, tThingGroups, thing+"/", p, func(k string, _ []byte) (groupNameAndArn, bool, error) {
			g := k[len(thing)+1:]
			return groupNameAndArn{g, s.groupArn(g)}, true, nil
		})
	})
}

// Thing principal types (AttachThingPrincipal's thingPrincipalType).
const (
	exclusiveThing    = "EXCLUSIVE_THING"
	nonExclusiveThing = "NON_EXCLUSIVE_THING"
)

type thingPrincipalObject struct {
	Principal          string `json:"principal"`
	ThingPrincipalType string `json:"thingPrincipalType"`
}

// listThingPrincipalsV2: GET /things/{thingName}/principals-v2. The
// attachment's type is not stored (AttachThingPrincipal checks
// thingPrincipalType but keeps no type): every principal is listed as
// NON_EXCLUSIVE_THING, AWS's default, and the EXCLUSIVE_THING filter lists
// none.
func (s *Service) listThingPrincipalsV2(r *http.Request) (any, error) {
	thing := r.PathValue("thingName")
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	typ := r.URL.Query().Get("thingPrincipalType")
	if typ != "" && typ != exclusiveThing && typ != nonExclusiveThing {
		return nil, invalid("thingPrincipalType must be EXCLUSIVE_THING or NON_EXCLUSIVE_THING, got %q", typ)
	}
	return listView(s.st, "thingPrincipalObjects", func(tx *store.Tx) ([]thingPrincipalObject, string, error) {
		if _, err := s.getThing(tx, thing); err != nil {
			return nil, "", err
		}
		if typ == exclusiveThing {
			return nil, "", nil
		}
		return pageOf(tx, tThingPrincipals, thing+"\x00", p, func(k string, _ []byte) (thingPrincipalObject, bool, error) {
			return thingPrincipalObject{k[len(thing)+1:], nonExclusiveThing}, true, nil
		})
	})
}
