package iot

import (
	"net/http"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// The wire of the thing type operations (thingtypes.go holds the rules):
// parsing and rendering only.

// createThingType: POST /thing-types/{thingTypeName}.
func (s *Service) createThingType(r *http.Request) (any, error) {
	var in struct {
		ThingTypeProperties *thingTypeProperties `json:"thingTypeProperties"`
		Tags                []ota.Tag            `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var props thingTypeProperties
	if in.ThingTypeProperties != nil {
		props = *in.ThingTypeProperties
	}
	t, err := s.CreateThingType(r.PathValue("thingTypeName"), props, in.Tags)
	if err != nil {
		return nil, err
	}
	return map[string]string{"thingTypeName": t.Name, "thingTypeArn": t.Arn, "thingTypeId": t.ID}, nil
}

type thingTypeMetadata struct {
	Deprecated      bool     `json:"deprecated"`
	DeprecationDate *float64 `json:"deprecationDate,omitempty"`
	CreationDate    *float64 `json:"creationDate,omitempty"`
}

// thingTypeOut is DescribeThingType's answer and, without the id,
// ListThingTypes' ThingTypeDefinition.
type thingTypeOut struct {
	ThingTypeName       string              `json:"thingTypeName"`
	ThingTypeID         string              `json:"thingTypeId,omitempty"`
	ThingTypeArn        string              `json:"thingTypeArn"`
	ThingTypeProperties thingTypeProperties `json:"thingTypeProperties"`
	ThingTypeMetadata   thingTypeMetadata   `json:"thingTypeMetadata"`
}

func thingTypeView(t *thingTypeRec, withID bool) thingTypeOut {
	out := thingTypeOut{ThingTypeName: t.Name, ThingTypeArn: t.Arn, ThingTypeProperties: t.Properties,
		ThingTypeMetadata: thingTypeMetadata{t.Deprecated, at(t.DeprecatedAt), at(t.CreatedAt)}}
	if withID {
		out.ThingTypeID = t.ID
	}
	return out
}

// describeThingType: GET /thing-types/{thingTypeName}.
func (s *Service) describeThingType(r *http.Request) (any, error) {
	t, err := s.DescribeThingType(r.PathValue("thingTypeName"))
	if err != nil {
		return nil, err
	}
	return thingTypeView(&t, true), nil
}

// listThingTypes: GET /thing-types?thingTypeName=. thingTypeName lists the
// type of that name only (the API reference: "The name of the thing type").
func (s *Service) listThingTypes(r *http.Request) (any, error) {
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	name := r.URL.Query().Get("thingTypeName")
	return listView(s.st, "thingTypes", func(tx *store.Tx) ([]thingTypeOut, string, error) {
		return pageOf(tx, tThingTypes, "", p, records(func(t *thingTypeRec) (thingTypeOut, bool) {
			if name != "" && t.Name != name {
				return thingTypeOut{}, false
			}
			return thingTypeView(t, false), true
		}))
	})
}

// updateThingType: PATCH /thing-types/{thingTypeName}.
func (s *Service) updateThingType(r *http.Request) (any, error) {
	var in struct {
		ThingTypeProperties *thingTypeProperties `json:"thingTypeProperties"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := s.UpdateThingType(r.PathValue("thingTypeName"), in.ThingTypeProperties); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// deprecateThingType: POST /thing-types/{thingTypeName}/deprecate.
func (s *Service) deprecateThingType(r *http.Request) (any, error) {
	var in struct {
		UndoDeprecate bool `json:"undoDeprecate"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := s.DeprecateThingType(r.PathValue("thingTypeName"), in.UndoDeprecate); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// deleteThingType: DELETE /thing-types/{thingTypeName}.
func (s *Service) deleteThingType(r *http.Request) (any, error) {
	if err := s.DeleteThingType(r.PathValue("thingTypeName")); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
