package iot

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/otactl/otactl/local/store"
)

// Tables of things and static thing groups.
const (
	tThings      = "iot.things"      // thing name → thingRec
	tGroups      = "iot.groups"      // group name → groupRec
	tMembers     = "iot.members"     // group/thing → "" (things of a group)
	tThingGroups = "iot.thinggroups" // thing/group → "" (groups of a thing)
	tChildren    = "iot.children"    // parent/child → "" (child groups)
)

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9:_-]{1,128}$`)

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

type attributePayload struct {
	Attributes map[string]string `json:"attributes,omitempty"`
	Merge      bool              `json:"merge,omitempty"`
}

func (s *Service) thingArn(name string) string { return s.env.ARN("iot", "thing/"+name) }
func (s *Service) groupArn(name string) string { return s.env.ARN("iot", "thinggroup/"+name) }

func checkName(what, name string) error {
	if !namePattern.MatchString(name) {
		return invalid("%s must be 1-128 characters of [a-zA-Z0-9:_-], got %q", what, name)
	}
	return nil
}

func (s *Service) createThing(r *http.Request) (any, error) {
	name := r.PathValue("thingName")
	var in struct {
		ThingTypeName    string            `json:"thingTypeName"`
		AttributePayload *attributePayload `json:"attributePayload"`
		BillingGroupName string            `json:"billingGroupName"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := checkName("thingName", name); err != nil {
		return nil, err
	}
	t := thingRec{Name: name, ID: uuid.NewString(), Arn: s.thingArn(name), TypeName: in.ThingTypeName,
		Billing: in.BillingGroupName, Version: 1, CreatedAt: s.now()}
	if in.AttributePayload != nil {
		t.Attributes = in.AttributePayload.Attributes
	}
	err := s.st.Update(func(tx *store.Tx) error {
		var old thingRec
		if ok, err := tx.Get(tThings, name, &old); err != nil {
			return err
		} else if ok {
			// AWS answers an identical CreateThing with the existing thing.
			if old.TypeName == t.TypeName && equalMaps(old.Attributes, t.Attributes) {
				t = old
				return nil
			}
			return alreadyExists(old.ID, old.Arn, "thing %s already exists with a different configuration", name)
		}
		return tx.Put(tThings, name, t)
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{"thingName": t.Name, "thingArn": t.Arn, "thingId": t.ID}, nil
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

func (s *Service) describeThing(r *http.Request) (any, error) {
	var t thingRec
	err := s.st.View(func(tx *store.Tx) (err error) {
		t, err = s.getThing(tx, r.PathValue("thingName"))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"thingName": t.Name, "thingId": t.ID, "thingArn": t.Arn, "defaultClientId": t.Name,
		"version": t.Version, "attributes": nonNil(t.Attributes)}
	if t.TypeName != "" {
		out["thingTypeName"] = t.TypeName
	}
	if t.Billing != "" {
		out["billingGroupName"] = t.Billing
	}
	return out, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (s *Service) deleteThing(r *http.Request) (any, error) {
	name := r.PathValue("thingName")
	err := s.st.Update(func(tx *store.Tx) error {
		t, err := s.getThing(tx, name)
		if err != nil {
			return err
		}
		if v := r.URL.Query().Get("expectedVersion"); v != "" && v != itoa(t.Version) {
			return versionConflict("thing %s is at version %d, not %s", name, t.Version, v)
		}
		var groups []string
		tx.List(tThingGroups, name+"/", func(k string, _ []byte) error {
			groups = append(groups, strings.TrimPrefix(k, name+"/"))
			return nil
		})
		for _, g := range groups {
			tx.Delete(tMembers, g+"/"+name)
			tx.Delete(tThingGroups, name+"/"+g)
		}
		tx.Delete(tTags, t.Arn)
		return tx.Delete(tThings, name)
	})
	if err != nil {
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

func (s *Service) listThings(r *http.Request) (any, error) {
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	attr, val, typ := q.Get("attributeName"), q.Get("attributeValue"), q.Get("thingTypeName")
	prefixVal, _ := boolQuery(r, "usePrefixAttributeValue")
	return listView(s.st, "things", func(tx *store.Tx) ([]thingAttribute, string, error) {
		return pageOf(tx, tThings, "", p, records(func(t *thingRec) (thingAttribute, bool) {
			if typ != "" && t.TypeName != typ {
				return thingAttribute{}, false
			}
			if attr != "" {
				v, ok := t.Attributes[attr]
				if !ok || (val != "" && v != val && !(prefixVal && strings.HasPrefix(v, val))) {
					return thingAttribute{}, false
				}
			}
			return thingAttribute{t.Name, t.Arn, t.TypeName, nonNil(t.Attributes), t.Version}, true
		}))
	})
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
