package iot

import (
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/otactl/otactl/internal/lazyre"
	"github.com/otactl/otactl/local/store"
)

// Things and the registry's attribute rules, the state side: CreateThing,
// DescribeThing, UpdateThing, DeleteThing and ListThings' filter. The wire
// is in things_http.go; thing groups are in groups.go, thing types in
// thingtypes.go.

// Tables of things and static thing groups.
const (
	tThings      = "iot.things"      // thing name → thingRec
	tGroups      = "iot.groups"      // group name → groupRec
	tMembers     = "iot.members"     // group/thing → "" (things of a group)
	tThingGroups = "iot.thinggroups" // thing/group → "" (groups of a thing)
	tChildren    = "iot.children"    // parent/child → "" (child groups)
)

var namePattern = lazyre.New(`^[a-zA-Z0-9:_-]{1,128}$`)

type thingRec struct {
	Name       string            `json:"name"`
	ID         string            `json:"id"`
	Arn        string            `json:"arn"`
	TypeName   string            `json:"typeName,omitempty"`
	Billing    string            `json:"billing,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Version    int64             `json:"version"`
	CreatedAt  time.Time         `json:"createdAt"`
}

type groupRec struct {
	Name        string            `json:"name"`
	ID          string            `json:"id"`
	Arn         string            `json:"arn"`
	Parent      string            `json:"parent,omitempty"`
	Description string            `json:"description,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	Version     int64             `json:"version"`
	CreatedAt   time.Time         `json:"createdAt"`
}

// attributePayload is AWS's AttributePayload. Attributes is nil when the
// request has no "attributes" member (nothing to change) and empty when it
// has {} (no attributes).
type attributePayload struct {
	Attributes map[string]string `json:"attributes,omitempty"`
	// Merge (UpdateThing, UpdateThingGroup): merge into the stored
	// attributes, an empty value deleting its key, instead of replacing them.
	Merge bool `json:"merge,omitempty"`
}

func (s *Service) thingArn(name string) string { return s.env.ARN("iot", "thing/"+name) }
func (s *Service) groupArn(name string) string { return s.env.ARN("iot", "thinggroup/"+name) }

func checkName(what, name string) error {
	if !namePattern.MatchString(name) {
		return invalid("%s must be 1-128 characters of [a-zA-Z0-9:_-], got %q", what, name)
	}
	return nil
}

// The AttributePayload rules of the API reference (AttributeName and
// AttributeValue). Invalid UTF-8 in a request arrives here as U+FFFD
// (encoding/json replaces it), which no pattern admits: it is refused, never
// stored.
var (
	attrNamePattern  = lazyre.New(`^[a-zA-Z0-9_.,@/:#-]{1,128}$`)
	attrValuePattern = lazyre.New(`^[a-zA-Z0-9_.,@/:#=\[\]-]{0,800}$`)
)

// checkAttributes checks each attribute of field, in key order.
func checkAttributes(field string, attrs map[string]string) error {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := attrs[k]
		switch {
		case strings.ContainsRune(k, utf8.RuneError):
			return invalid("%s: attribute name %q is not valid UTF-8", field, k)
		case !attrNamePattern.MatchString(k):
			return invalid("%s: attribute name %q must be 1-128 characters of [a-zA-Z0-9_.,@/:#-]", field, k)
		case strings.ContainsRune(v, utf8.RuneError):
			return invalid("%s: the value of attribute %q is not valid UTF-8", field, k)
		case !attrValuePattern.MatchString(v):
			return invalid("%s: the value of attribute %q must be at most 800 characters of [a-zA-Z0-9_.,@/:#=[]-], got %q", field, k, v)
		}
	}
	return nil
}

// applyAttributes returns the attributes after an update with p: merged
// into old (an empty value deletes its key) or replacing them (keys with an
// empty value left out). A nil p or p.Attributes changes nothing.
func applyAttributes(old map[string]string, p *attributePayload) map[string]string {
	if p == nil || p.Attributes == nil {
		return old
	}
	out := map[string]string{}
	if p.Merge {
		for k, v := range old {
			out[k] = v
		}
	}
	for k, v := range p.Attributes {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func (s *Service) getThing(tx *store.Tx, name string) (thingRec, error) {
	var t thingRec
	ok, err := tx.Get(tThings, name, &t)
	if err == nil && !ok {
		err = notFound("Thing %s cannot be found.", name)
	}
	return t, err
}

// typeForNewThing checks that a thing may be given the thing type name: it
// exists and is not deprecated.
func (s *Service) typeForNewThing(tx *store.Tx, name string) error {
	if err := checkName("thingTypeName", name); err != nil {
		return err
	}
	tt, err := s.getThingType(tx, name)
	if err != nil {
		return err
	}
	if tt.Deprecated {
		return invalid("thing type %s is deprecated: no new thing can be associated with it (DeprecateThingType with undoDeprecate first)", name)
	}
	return nil
}

// CreateThing creates a thing; an identical thing already there is
// answered as it is (AWS's idempotent CreateThing). billingGroupName is
// kept as given: otactl local has no billing groups.
func (s *Service) CreateThing(name, typeName, billingGroup string, attrs map[string]string) (thingRec, error) {
	if err := checkName("thingName", name); err != nil {
		return thingRec{}, err
	}
	if err := checkAttributes("attributePayload.attributes", attrs); err != nil {
		return thingRec{}, err
	}
	if len(attrs) == 0 {
		attrs = nil
	}
	t := thingRec{Name: name, ID: uuid.NewString(), Arn: s.thingArn(name), TypeName: typeName,
		Billing: billingGroup, Attributes: attrs, Version: 1, CreatedAt: s.now()}
	err := s.groupUpdate(func(tx *store.Tx) error {
		var old thingRec
		if ok, err := tx.Get(tThings, name, &old); err != nil {
			return err
		} else if ok {
			if old.TypeName == t.TypeName && equalMaps(old.Attributes, t.Attributes) {
				t = old
				return nil
			}
			return alreadyExists(old.ID, old.Arn, "thing %s already exists with a different configuration", name)
		}
		if typeName != "" {
			if err := s.typeForNewThing(tx, typeName); err != nil {
				return err
			}
		}
		return tx.Put(tThings, name, t)
	})
	return t, err
}

// DescribeThing returns a thing.
func (s *Service) DescribeThing(name string) (thingRec, error) {
	var t thingRec
	err := s.st.View(func(tx *store.Tx) (err error) {
		t, err = s.getThing(tx, name)
		return err
	})
	return t, err
}

// ThingUpdate is an UpdateThing request.
type ThingUpdate struct {
	// TypeName gives the thing this thing type (it must exist and not be
	// deprecated); RemoveType takes its type away. Not both.
	TypeName   string
	RemoveType bool
	// Attributes, when set, merges into or replaces the attributes.
	Attributes *attributePayload
	// ExpectedVersion, when set, must be the thing's version
	// (VersionConflictException otherwise).
	ExpectedVersion *int64
}

// UpdateThing changes a thing's type and attributes; its version goes up
// by one.
func (s *Service) UpdateThing(name string, u ThingUpdate) error {
	if u.TypeName != "" && u.RemoveType {
		return invalid("thingTypeName and removeThingType cannot both be given: removeThingType takes the type away")
	}
	if u.Attributes != nil {
		if err := checkAttributes("attributePayload.attributes", u.Attributes.Attributes); err != nil {
			return err
		}
	}
	return s.st.Update(func(tx *store.Tx) error {
		t, err := s.getThing(tx, name)
		if err != nil {
			return err
		}
		if u.ExpectedVersion != nil && *u.ExpectedVersion != t.Version {
			return versionConflict("thing %s is at version %d, not %d", name, t.Version, *u.ExpectedVersion)
		}
		switch {
		case u.RemoveType:
			t.TypeName = ""
		case u.TypeName != "" && u.TypeName != t.TypeName:
			if err := s.typeForNewThing(tx, u.TypeName); err != nil {
				return err
			}
			t.TypeName = u.TypeName
		}
		t.Attributes = applyAttributes(t.Attributes, u.Attributes)
		t.Version++
		return tx.Put(tThings, name, t)
	})
}

// DeleteThing deletes a thing and its group memberships. As in AWS, a thing
// with a principal (a certificate) attached cannot be deleted: detach it
// first. A missing thing is ResourceNotFoundException.
func (s *Service) DeleteThing(name string, expectedVersion *int64) error {
	return s.st.Update(func(tx *store.Tx) error {
		t, err := s.getThing(tx, name)
		if err != nil {
			return err
		}
		if expectedVersion != nil && *expectedVersion != t.Version {
			return versionConflict("thing %s is at version %d, not %d", name, t.Version, *expectedVersion)
		}
		if len(keysUnder(tx, tThingPrincipals, name+"\x00")) > 0 {
			return invalid("Cannot delete. Thing %s is still attached to one or more principals (DetachThingPrincipal first)", name)
		}
		for _, g := range keysUnder(tx, tThingGroups, name+"/") {
			tx.Delete(tMembers, g+"/"+name)
			tx.Delete(tThingGroups, name+"/"+g)
		}
		tx.Delete(tTags, t.Arn)
		return tx.Delete(tThings, name)
	})
}

// thingFilter is ListThings' filter.
type thingFilter struct {
	attrName, attrValue, typeName string
	prefixValue                   bool // usePrefixAttributeValue
}

func (f thingFilter) match(t *thingRec) bool {
	if f.typeName != "" && t.TypeName != f.typeName {
		return false
	}
	if f.attrName == "" {
		return true
	}
	v, ok := t.Attributes[f.attrName]
	switch {
	case !ok:
		return false
	case f.attrValue == "" || v == f.attrValue:
		return true
	default:
		return f.prefixValue && strings.HasPrefix(v, f.attrValue)
	}
}

// keysUnder returns the rest of each key under prefix, in order.
func keysUnder(tx *store.Tx, table, prefix string) []string {
	var out []string
	tx.List(table, prefix, func(k string, _ []byte) error {
		out = append(out, k[len(prefix):])
		return nil
	})
	return out
}

// arnName returns what follows kind in an IoT ARN ("" when it is not one).
func arnName(arn, kind string) string {
	i := strings.Index(arn, ":"+kind)
	if !strings.HasPrefix(arn, "arn:") || i < 0 {
		return ""
	}
	return arn[i+1+len(kind):]
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
