package iot

import (
	"encoding/json"
	"sort"

	"github.com/google/uuid"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// Static thing groups, the state side: the hierarchy, attributes with
// AWS's merge rules, membership (which also moves continuous jobs and the
// group's policies) and the listing filters. The wire is in groups_http.go.

// maxDescription is the longest thing group (and thing type) description.
const maxDescription = 2028

func checkDescription(field, d string) error {
	if len(d) > maxDescription {
		return invalid("%s must be at most %d characters, got %d", field, maxDescription, len(d))
	}
	return nil
}

// CreateThingGroup creates a static thing group (under parent when set);
// an identical group already there is answered as it is.
func (s *Service) CreateThingGroup(name, parent, description string, attrs map[string]string, tags []ota.Tag) (groupRec, error) {
	if err := checkName("thingGroupName", name); err != nil {
		return groupRec{}, err
	}
	if err := checkDescription("thingGroupProperties.thingGroupDescription", description); err != nil {
		return groupRec{}, err
	}
	if err := checkAttributes("thingGroupProperties.attributePayload.attributes", attrs); err != nil {
		return groupRec{}, err
	}
	if len(attrs) == 0 {
		attrs = nil
	}
	g := groupRec{Name: name, ID: uuid.NewString(), Arn: s.groupArn(name), Parent: parent, Description: description,
		Attributes: attrs, Version: 1, CreatedAt: s.now()}
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
		if err := putTags(tx, g.Arn, tags); err != nil {
			return err
		}
		return tx.Put(tGroups, name, g)
	})
	return g, err
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

// maxGroupDepth bounds the walk to the root (AWS allows 7 levels).
const maxGroupDepth = 8

// DescribeThingGroup returns a group and its ancestors, the root first
// (empty for a root group).
func (s *Service) DescribeThingGroup(name string) (groupRec, []groupNameAndArn, error) {
	var g groupRec
	var chain []groupNameAndArn
	err := s.st.View(func(tx *store.Tx) (err error) {
		if g, err = s.getGroup(tx, name); err != nil {
			return err
		}
		for p := g.Parent; p != "" && len(chain) < maxGroupDepth; {
			pg, err := s.getGroup(tx, p)
			if err != nil {
				break
			}
			chain = append([]groupNameAndArn{{pg.Name, pg.Arn}}, chain...)
			p = pg.Parent
		}
		return nil
	})
	return g, chain, err
}

// ThingGroupUpdate is an UpdateThingGroup request.
type ThingGroupUpdate struct {
	// Description, when set, replaces the description.
	Description *string
	// Attributes, when set, merges into or replaces the attributes.
	Attributes *attributePayload
	// ExpectedVersion, when set, must be the group's version
	// (VersionConflictException otherwise).
	ExpectedVersion *int64
}

// UpdateThingGroup changes a group's description and attributes and
// returns its new version (one more than before).
func (s *Service) UpdateThingGroup(name string, u ThingGroupUpdate) (int64, error) {
	if u.Description != nil {
		if err := checkDescription("thingGroupProperties.thingGroupDescription", *u.Description); err != nil {
			return 0, err
		}
	}
	if u.Attributes != nil {
		if err := checkAttributes("thingGroupProperties.attributePayload.attributes", u.Attributes.Attributes); err != nil {
			return 0, err
		}
	}
	var version int64
	err := s.st.Update(func(tx *store.Tx) error {
		g, err := s.getGroup(tx, name)
		if err != nil {
			return err
		}
		if u.ExpectedVersion != nil && *u.ExpectedVersion != g.Version {
			return versionConflict("thing group %s is at version %d, not %d", name, g.Version, *u.ExpectedVersion)
		}
		if u.Description != nil {
			g.Description = *u.Description
		}
		g.Attributes = applyAttributes(g.Attributes, u.Attributes)
		g.Version++
		version = g.Version
		return tx.Put(tGroups, name, g)
	})
	return version, err
}

// DeleteThingGroup deletes a group without child groups; its things leave
// it and its policies are detached (policy_targets.go). A missing group is
// not an error (AWS answers 200).
func (s *Service) DeleteThingGroup(name string, expectedVersion *int64) error {
	var evs []Event
	err := s.st.Update(func(tx *store.Tx) error {
		evs = nil
		var g groupRec
		ok, err := tx.Get(tGroups, name, &g)
		if err != nil || !ok {
			return err
		}
		if expectedVersion != nil && *expectedVersion != g.Version {
			return versionConflict("thing group %s is at version %d, not %d", name, g.Version, *expectedVersion)
		}
		if len(keysUnder(tx, tChildren, name+"/")) > 0 {
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
	if err == nil {
		s.emit(evs...)
	}
	return err
}

// groupFilter is ListThingGroups' filter: the children of parent (of no
// group: the root groups), with all their descendants when recursive;
// namePrefixFilter narrows the result by name.
type groupFilter struct {
	parent, prefix string
	recursive      bool
}

// scope returns the set of group names the filter admits before the name
// prefix, or nil for every group.
func (s *Service) scope(tx *store.Tx, f groupFilter) (map[string]bool, error) {
	if f.parent == "" && f.recursive {
		return nil, nil
	}
	in := map[string]bool{}
	if f.parent != "" {
		if _, err := s.getGroup(tx, f.parent); err != nil {
			return nil, err
		}
		s.descendants(tx, f.parent, f.recursive, in)
		return in, nil
	}
	// The root groups: those without a parent.
	err := tx.List(tGroups, "", func(k string, raw []byte) error {
		var g groupRec
		if err := json.Unmarshal(raw, &g); err != nil {
			return err
		}
		if g.Parent == "" {
			in[k] = true
		}
		return nil
	})
	return in, err
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
	OverrideDynamicGroups bool   `json:"overrideDynamicGroups"` // no dynamic groups: ignored
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

// AddThingToThingGroup adds a thing to a group: the group's continuous
// jobs and policies start applying to it.
func (s *Service) AddThingToThingGroup(in membershipInput) error {
	return s.changeMembership(in, func(tx *store.Tx, in *membershipInput) ([]Event, error) {
		if err := tx.Put(tMembers, in.ThingGroupName+"/"+in.ThingName, ""); err != nil {
			return nil, err
		}
		if err := tx.Put(tThingGroups, in.ThingName+"/"+in.ThingGroupName, ""); err != nil {
			return nil, err
		}
		return s.joinContinuousJobs(tx, in.ThingName, in.ThingGroupName)
	})
}

// RemoveThingFromThingGroup takes a thing out of a group.
func (s *Service) RemoveThingFromThingGroup(in membershipInput) error {
	return s.changeMembership(in, func(tx *store.Tx, in *membershipInput) ([]Event, error) {
		if err := tx.Delete(tMembers, in.ThingGroupName+"/"+in.ThingName); err != nil {
			return nil, err
		}
		if err := tx.Delete(tThingGroups, in.ThingName+"/"+in.ThingGroupName); err != nil {
			return nil, err
		}
		return s.leaveContinuousJobs(tx, in.ThingName, in.ThingGroupName)
	})
}

// changeMembership checks the group and the thing exist, runs change in the
// same transaction and emits its events once committed.
func (s *Service) changeMembership(in membershipInput, change func(tx *store.Tx, in *membershipInput) ([]Event, error)) error {
	var evs []Event
	err := s.groupUpdate(func(tx *store.Tx) error {
		evs = nil
		in := in
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
	if err == nil {
		s.emit(evs...)
	}
	return err
}
