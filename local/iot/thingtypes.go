package iot

import (
	"encoding/json"
	"reflect"
	"time"

	"github.com/google/uuid"
	"github.com/otactl/otactl/internal/lazyre"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// Thing types, the state side: CreateThingType, DescribeThingType,
// UpdateThingType, DeprecateThingType, DeleteThingType and ListThingTypes'
// filter. A thing's type is checked where it is given (CreateThing,
// UpdateThing in things.go). The wire is in thingtypes_http.go.

const tThingTypes = "iot.thingtypes" // thing type name → thingTypeRec

// deleteAfterDeprecation is how long a thing type must have been deprecated
// before DeleteThingType takes it: the developer guide ("Delete a thing
// type") asks to wait five minutes after deprecating. otactl local enforces
// it on the service clock (Service.Now), as AWS does.
const deleteAfterDeprecation = 5 * time.Minute

// maxSearchableAttributes is the most searchable attributes a thing type
// has (ThingTypeProperties, AWS::IoT::ThingType).
const maxSearchableAttributes = 3

// thingTypeProperties is AWS's ThingTypeProperties.
type thingTypeProperties struct {
	ThingTypeDescription *string             `json:"thingTypeDescription,omitempty"`
	SearchableAttributes []string            `json:"searchableAttributes,omitempty"`
	Mqtt5Configuration   *mqtt5Configuration `json:"mqtt5Configuration,omitempty"`
}

// mqtt5Configuration is AWS's Mqtt5Configuration: kept and returned; the
// broker adds no user properties from it.
type mqtt5Configuration struct {
	PropagatingAttributes []propagatingAttribute `json:"propagatingAttributes"`
}

type propagatingAttribute struct {
	UserPropertyKey     string `json:"userPropertyKey,omitempty"`
	ThingAttribute      string `json:"thingAttribute,omitempty"`
	ConnectionAttribute string `json:"connectionAttribute,omitempty"`
}

type thingTypeRec struct {
	Name         string              `json:"name"`
	ID           string              `json:"id"`
	Arn          string              `json:"arn"`
	Properties   thingTypeProperties `json:"properties"`
	Deprecated   bool                `json:"deprecated,omitempty"`
	DeprecatedAt time.Time           `json:"deprecatedAt,omitzero"`
	CreatedAt    time.Time           `json:"createdAt"`
}

func (s *Service) thingTypeArn(name string) string { return s.env.ARN("iot", "thingtype/"+name) }

var (
	userPropertyKeyPattern     = lazyre.New(`^[a-zA-Z0-9:$.]{1,128}$`)
	connectionAttributePattern = lazyre.New(`^[a-zA-Z0-9:.]{1,128}$`)
)

// checkThingTypeProperties checks the members the API reference constrains.
func checkThingTypeProperties(p *thingTypeProperties) error {
	if p.ThingTypeDescription != nil {
		if err := checkDescription("thingTypeProperties.thingTypeDescription", *p.ThingTypeDescription); err != nil {
			return err
		}
	}
	if len(p.SearchableAttributes) > maxSearchableAttributes {
		return invalid("thingTypeProperties.searchableAttributes: at most %d attributes are searchable, got %d", maxSearchableAttributes, len(p.SearchableAttributes))
	}
	for _, a := range p.SearchableAttributes {
		if !attrNamePattern.MatchString(a) {
			return invalid("thingTypeProperties.searchableAttributes: %q must be 1-128 characters of [a-zA-Z0-9_.,@/:#-]", a)
		}
	}
	if p.Mqtt5Configuration != nil {
		for i, a := range p.Mqtt5Configuration.PropagatingAttributes {
			switch {
			case a.UserPropertyKey != "" && !userPropertyKeyPattern.MatchString(a.UserPropertyKey):
				return invalid("thingTypeProperties.mqtt5Configuration.propagatingAttributes[%d].userPropertyKey must be 1-128 characters of [a-zA-Z0-9:$.], got %q", i, a.UserPropertyKey)
			case a.ThingAttribute != "" && !attrNamePattern.MatchString(a.ThingAttribute):
				return invalid("thingTypeProperties.mqtt5Configuration.propagatingAttributes[%d].thingAttribute must be 1-128 characters of [a-zA-Z0-9_.,@/:#-], got %q", i, a.ThingAttribute)
			case a.ConnectionAttribute != "" && !connectionAttributePattern.MatchString(a.ConnectionAttribute):
				return invalid("thingTypeProperties.mqtt5Configuration.propagatingAttributes[%d].connectionAttribute must be 1-128 characters of [a-zA-Z0-9:.], got %q", i, a.ConnectionAttribute)
			}
		}
	}
	return nil
}

func (s *Service) getThingType(tx *store.Tx, name string) (thingTypeRec, error) {
	var t thingTypeRec
	ok, err := tx.Get(tThingTypes, name, &t)
	if err == nil && !ok {
		err = notFound("Thing type %s cannot be found.", name)
	}
	return t, err
}

// CreateThingType creates a thing type; the same name with the same
// properties again answers the existing type, with other properties it is
// ResourceAlreadyExistsException.
func (s *Service) CreateThingType(name string, props thingTypeProperties, tags []ota.Tag) (thingTypeRec, error) {
	if err := checkName("thingTypeName", name); err != nil {
		return thingTypeRec{}, err
	}
	if err := checkThingTypeProperties(&props); err != nil {
		return thingTypeRec{}, err
	}
	t := thingTypeRec{Name: name, ID: uuid.NewString(), Arn: s.thingTypeArn(name), Properties: props, CreatedAt: s.now()}
	err := s.st.Update(func(tx *store.Tx) error {
		var old thingTypeRec
		if ok, err := tx.Get(tThingTypes, name, &old); err != nil {
			return err
		} else if ok {
			if reflect.DeepEqual(normalProps(old.Properties), normalProps(props)) {
				t = old
				return nil
			}
			return alreadyExists(old.ID, old.Arn, "thing type %s already exists with different properties", name)
		}
		if err := putTags(tx, t.Arn, tags); err != nil {
			return err
		}
		return tx.Put(tThingTypes, name, t)
	})
	return t, err
}

// normalProps makes properties comparable: no description and an empty
// one, no list and an empty one, are the same.
func normalProps(p thingTypeProperties) thingTypeProperties {
	if p.ThingTypeDescription != nil && *p.ThingTypeDescription == "" {
		p.ThingTypeDescription = nil
	}
	if len(p.SearchableAttributes) == 0 {
		p.SearchableAttributes = nil
	}
	if p.Mqtt5Configuration != nil && len(p.Mqtt5Configuration.PropagatingAttributes) == 0 {
		p.Mqtt5Configuration = nil
	}
	return p
}

// DescribeThingType returns a thing type.
func (s *Service) DescribeThingType(name string) (thingTypeRec, error) {
	var t thingTypeRec
	err := s.st.View(func(tx *store.Tx) (err error) {
		t, err = s.getThingType(tx, name)
		return err
	})
	return t, err
}

// UpdateThingType replaces the properties given (description, searchable
// attributes, MQTT 5 configuration) and keeps those not given: the API
// reference says only "Updates a thing type".
func (s *Service) UpdateThingType(name string, props *thingTypeProperties) error {
	if props != nil {
		if err := checkThingTypeProperties(props); err != nil {
			return err
		}
	}
	return s.st.Update(func(tx *store.Tx) error {
		t, err := s.getThingType(tx, name)
		if err != nil || props == nil {
			return err
		}
		if props.ThingTypeDescription != nil {
			t.Properties.ThingTypeDescription = props.ThingTypeDescription
		}
		if props.SearchableAttributes != nil {
			t.Properties.SearchableAttributes = props.SearchableAttributes
		}
		if props.Mqtt5Configuration != nil {
			t.Properties.Mqtt5Configuration = props.Mqtt5Configuration
		}
		return tx.Put(tThingTypes, name, t)
	})
}

// DeprecateThingType deprecates a thing type (no new thing can take it) or,
// with undo, makes it usable again. Deprecating a deprecated type keeps its
// deprecation date.
func (s *Service) DeprecateThingType(name string, undo bool) error {
	return s.st.Update(func(tx *store.Tx) error {
		t, err := s.getThingType(tx, name)
		if err != nil {
			return err
		}
		switch {
		case undo:
			t.Deprecated, t.DeprecatedAt = false, time.Time{}
		case !t.Deprecated:
			t.Deprecated, t.DeprecatedAt = true, s.now()
		}
		return tx.Put(tThingTypes, name, t)
	})
}

// DeleteThingType deletes a thing type that has been deprecated for five
// minutes and that no thing has any more (UpdateThing with removeThingType
// first). Otherwise InvalidRequestException naming what is missing.
func (s *Service) DeleteThingType(name string) error {
	return s.st.Update(func(tx *store.Tx) error {
		t, err := s.getThingType(tx, name)
		if err != nil {
			return err
		}
		if !t.Deprecated {
			return invalid("thing type %s is not deprecated: DeprecateThingType first, then wait %v", name, deleteAfterDeprecation)
		}
		if ready := t.DeprecatedAt.Add(deleteAfterDeprecation); s.now().Before(ready) {
			return invalid("thing type %s was deprecated less than %v ago: it can be deleted from %s", name, deleteAfterDeprecation, ready.Format(time.RFC3339))
		}
		// Things are few in otactl local: a scan beats keeping an index.
		var user string
		err = tx.List(tThings, "", func(k string, raw []byte) error {
			var th thingRec
			if err := json.Unmarshal(raw, &th); err != nil {
				return err
			}
			if th.TypeName == name {
				user = k
				return store.ErrStop
			}
			return nil
		})
		if err != nil {
			return err
		}
		if user != "" {
			return invalid("thing type %s is still associated with thing %s (UpdateThing with removeThingType first)", name, user)
		}
		tx.Delete(tTags, t.Arn)
		return tx.Delete(tThingTypes, name)
	})
}
