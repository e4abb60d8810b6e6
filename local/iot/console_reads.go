package iot

import (
	"encoding/json"

	"github.com/otactl/otactl/local/store"
)

// Read-only Go methods for the web console (local/console): the registry
// and the streams as lists, which the API serves only page by page.

// ThingSummary is a thing as the console lists it.
type ThingSummary struct {
	Name       string
	TypeName   string
	Attributes map[string]string
	Groups     []string // the static groups it is a direct member of
	Version    int64
}

// GroupSummary is a static thing group as the console lists it.
type GroupSummary struct {
	Name, Parent, Description string
	Things                    int // direct members
}

// ThingSummaries returns every thing, in name order.
func (s *Service) ThingSummaries() ([]ThingSummary, error) {
	var out []ThingSummary
	err := s.st.View(func(tx *store.Tx) error {
		return tx.List(tThings, "", func(_ string, raw []byte) error {
			var t thingRec
			if err := json.Unmarshal(raw, &t); err != nil {
				return err
			}
			out = append(out, ThingSummary{Name: t.Name, TypeName: t.TypeName, Attributes: t.Attributes,
				Groups: keysUnder(tx, tThingGroups, t.Name+"/"), Version: t.Version})
			return nil
		})
	})
	return out, err
}

// GroupSummaries returns every static thing group, in name order.
func (s *Service) GroupSummaries() ([]GroupSummary, error) {
	var out []GroupSummary
	err := s.st.View(func(tx *store.Tx) error {
		return tx.List(tGroups, "", func(_ string, raw []byte) error {
			var g groupRec
			if err := json.Unmarshal(raw, &g); err != nil {
				return err
			}
			out = append(out, GroupSummary{Name: g.Name, Parent: g.Parent, Description: g.Description,
				Things: len(keysUnder(tx, tMembers, g.Name+"/"))})
			return nil
		})
	})
	return out, err
}

// Streams returns every MQTT stream, in id order.
func (s *Service) Streams() ([]StreamInfo, error) {
	var out []StreamInfo
	err := s.st.View(func(tx *store.Tx) error {
		return tx.List(tStreams, "", func(_ string, raw []byte) error {
			var si StreamInfo
			if err := json.Unmarshal(raw, &si); err != nil {
				return err
			}
			out = append(out, si)
			return nil
		})
	})
	return out, err
}
