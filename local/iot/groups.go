package iot

import (
	"net/http"
	"sort"

	"github.com/google/uuid"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

func (s *Service) createThingGroup(r *http.Request) (any, error) {
	name := r.PathValue("thingGroupName")
	var in struct {
		ParentGroupName      string    `json:"parentGroupName"`
		Tags                 []ota.Tag `json:"tags"`
		ThingGroupProperties *struct {
			ThingGroupDescription string            `json:"thingGroupDescription"`
			AttributePayload      *attributePayload `json:"attributePayload"`
		} `json:"thingGroupProperties"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := checkName("thingGroupName", name); err != nil {
		return nil, err
	}
	g := groupRec{Name: name, ID: uuid.NewString(), Arn: s.groupArn(name), Parent: in.ParentGroupName, Version: 1, CreatedAt: s.now()}
	if p := in.ThingGroupProperties; p != nil {
		g.Description = p.ThingGroupDescription
		if p.AttributePayload != nil {
			g.Attributes = p.AttributePayload.Attributes
		}
	}
	err := s.st.Update(func(tx *store.Tx) error {
		var old groupRec
		if ok, err := tx.Get(tGroups, name, &old); err != nil {
			return err
		} else if ok {
			if old.Parent == g.Parent && old.Description == g.Description && equalMaps(old.Attributes, g.Attributes) {
				g = old
				return nil
			}
			return alreadyExists(old.ID, old.Arn, "thing group %s already exists with a different configuration", name)
		}
		if g.Parent != "" {
			if _, err := s.getGroup(tx, g.Parent); err != nil {
				return err
			}
			if err := tx.Put(tChildren, g.Parent+"/"+name, ""); err != nil {
				return err
			}
		}
		if err := putTags(tx, g.Arn, in.Tags); err != nil {
			return err
		}
		return tx.Put(tGroups, name, g)
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{"thingGroupName": g.Name, "thingGroupArn": g.Arn, "thingGroupId": g.ID}, nil
}

func (s *Service) getGroup(tx *store.Tx, name string) (groupRec, error) {
	var g groupRec
	ok, err := tx.Get(tGroups, name, &g)
	if err == nil && !ok {
		err = notFound("Thing group %s cannot be found.", name)
	}
	return g, err
}

type groupNameAndArn struct {
	GroupName string `json:"groupName"`
	GroupArn  string `json:"groupArn"`
}

func (s *Service) describeThingGroup(r *http.Request) (any, error) {
	var out map[string]any
	err := s.st.View(func(tx *store.Tx) error {
		g, err := s.getGroup(tx, r.PathValue("thingGroupName"))
		if err != nil {
			return err
		}
		// rootToParentThingGroups lists the ancestors, the root first.
		chain := []groupNameAndArn{}
		for p := g.Parent; p != "" && len(chain) < 8; {
			pg, err := s.getGroup(tx, p)
			if err != nil {
				break
			}
			chain = append([]groupNameAndArn{{pg.Name, pg.Arn}}, chain...)
			p = pg.Parent
		}
		meta := map[string]any{"creationDate": at(g.CreatedAt), "rootToParentThingGroups": chain}
		if g.Parent != "" {
			meta["parentGroupName"] = g.Parent
		}
		out = map[string]any{"thingGroupName": g.Name, "thingGroupId": g.ID, "thingGroupArn": g.Arn, "version": g.Version,
			"thingGroupProperties": map[string]any{"thingGroupDescription": g.Description,
				"attributePayload": map[string]any{"attributes": nonNil(g.Attributes)}},
			"thingGroupMetadata": meta}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) deleteThingGroup(r *http.Request) (any, error) {
	name := r.PathValue("thingGroupName")
	var evs []Event
	err := s.st.Update(func(tx *store.Tx) error {
		evs = nil
		var g groupRec
		ok, err := tx.Get(tGroups, name, &g)
		if err != nil || !ok {
			return err // AWS: deleting a missing group succeeds
		}
		if v := r.URL.Query().Get("expectedVersion"); v != "" && v != itoa(g.Version) {
			return versionConflict("thing group %s is at version %d, not %s", name, g.Version, v)
		}
		hasChild := false
		tx.List(tChildren, name+"/", func(string, []byte) error { hasChild = true; return store.ErrStop })
		if hasChild {
			return invalid("thing group %s has child groups; delete them first", name)
		}
		// Its policies stop applying to its things (policy_targets.go).
		if evs, err = s.detachGroupPolicies(tx, g); err != nil {
			return err
		}
		for _, t := range keysUnder(tx, tMembers, name+"/") {
			tx.Delete(tThingGroups, t+"/"+name)
			tx.Delete(tMembers, name+"/"+t)
		}
		if g.Parent != "" {
			tx.Delete(tChildren, g.Parent+"/"+name)
		}
		tx.Delete(tTags, g.Arn)
		return tx.Delete(tGroups, name)
	})
	if err != nil {
		return nil, err
	}
	s.emit(evs...)
	return struct{}{}, nil
}

func (s *Service) listThingGroups(r *http.Request) (any, error) {
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	prefix, parent := q.Get("namePrefixFilter"), q.Get("parentGroup")
	recursive := true
	if q.Get("recursive") != "" {
		if recursive, err = boolQuery(r, "recursive"); err != nil {
			return nil, err
		}
	}
	return listView(s.st, "thingGroups", func(tx *store.Tx) ([]groupNameAndArn, string, error) {
		var under map[string]bool
		if parent != "" {
			if _, err := s.getGroup(tx, parent); err != nil {
				return nil, "", err
			}
			under = map[string]bool{}
			s.descendants(tx, parent, recursive, under)
		}
		group := records(func(g *groupRec) (groupNameAndArn, bool) { return groupNameAndArn{g.Name, g.Arn}, true })
		return pageOf(tx, tGroups, prefix, p, func(k string, raw []byte) (groupNameAndArn, bool, error) {
			if under != nil && !under[k] {
				return groupNameAndArn{}, false, nil
			}
			return group(k, raw)
		})
	})
}

// descendants adds the child groups of group (all levels when recursive) to into.
func (s *Service) descendants(tx *store.Tx, group string, recursive bool, into map[string]bool) {
	for _, c := range keysUnder(tx, tChildren, group+"/") {
		if into[c] {
			continue
		}
		into[c] = true
		if recursive {
			s.descendants(tx, c, true, into)
		}
	}
}

// groupThings returns the things of group and, as for a job's target, of
// its descendants: sorted, without duplicates.
func (s *Service) groupThings(tx *store.Tx, group string, recursive bool) []string {
	groups := map[string]bool{group: true}
	if recursive {
		s.descendants(tx, group, true, groups)
	}
	var things []string
	for g := range groups {
		things = append(things, keysUnder(tx, tMembers, g+"/")...)
	}
	sort.Strings(things)
	return dedupSorted(things)
}

func dedupSorted(xs []string) []string {
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}

type membershipInput struct {
	ThingGroupName        string `json:"thingGroupName"`
	ThingGroupArn         string `json:"thingGroupArn"`
	ThingName             string `json:"thingName"`
	ThingArn              string `json:"thingArn"`
	OverrideDynamicGroups bool   `json:"overrideDynamicGroups"`
}

// resolve fills the names from the ARNs and checks both exist.
func (s *Service) resolveMembership(tx *store.Tx, in *membershipInput) error {
	if in.ThingGroupName == "" && in.ThingGroupArn != "" {
		in.ThingGroupName = arnName(in.ThingGroupArn, "thinggroup/")
	}
	if in.ThingName == "" && in.ThingArn != "" {
		in.ThingName = arnName(in.ThingArn, "thing/")
	}
	if in.ThingGroupName == "" || in.ThingName == "" {
		return invalid("a thing group (thingGroupName or thingGroupArn) and a thing (thingName or thingArn) are required")
	}
	if _, err := s.getGroup(tx, in.ThingGroupName); err != nil {
		return err
	}
	_, err := s.getThing(tx, in.ThingName)
	return err
}

func (s *Service) addThingToThingGroup(r *http.Request) (any, error) {
	return s.changeMembership(r, func(tx *store.Tx, in *membershipInput) ([]Event, error) {
		if err := tx.Put(tMembers, in.ThingGroupName+"/"+in.ThingName, ""); err != nil {
			return nil, err
		}
		if err := tx.Put(tThingGroups, in.ThingName+"/"+in.ThingGroupName, ""); err != nil {
			return nil, err
		}
		return s.joinContinuousJobs(tx, in.ThingName, in.ThingGroupName)
	})
}

func (s *Service) removeThingFromThingGroup(r *http.Request) (any, error) {
	return s.changeMembership(r, func(tx *store.Tx, in *membershipInput) ([]Event, error) {
		if err := tx.Delete(tMembers, in.ThingGroupName+"/"+in.ThingName); err != nil {
			return nil, err
		}
		if err := tx.Delete(tThingGroups, in.ThingName+"/"+in.ThingGroupName); err != nil {
			return nil, err
		}
		return s.leaveContinuousJobs(tx, in.ThingName, in.ThingGroupName)
	})
}

// changeMembership decodes a membership request, checks the group and the
// thing exist, runs change in the same transaction and emits its events
// once committed.
func (s *Service) changeMembership(r *http.Request, change func(tx *store.Tx, in *membershipInput) ([]Event, error)) (any, error) {
	var in membershipInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var evs []Event
	err := s.st.Update(func(tx *store.Tx) error {
		evs = nil
		if err := s.resolveMembership(tx, &in); err != nil {
			return err
		}
		var err error
		if evs, err = change(tx, &in); err != nil {
			return err
		}
		// The group's policies start or stop applying to the thing.
		evs = append(evs, s.membershipPolicyEvents(tx, in.ThingName, in.ThingGroupName)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.emit(evs...)
	return struct{}{}, nil
}

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
