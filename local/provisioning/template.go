// Package provisioning reads AWS IoT provisioning templates (the JSON that
// just-in-time provisioning, bulk registration and fleet provisioning run)
// and evaluates them with a parameter dictionary into the resources to
// create: a thing, a certificate, policies. It is pure: local/iot does the
// registry work the evaluated template asks for.
//
// The template language is the one the AWS IoT developer guide describes
// ("Provisioning templates"): Parameters (Type String, optional Default),
// Resources of type AWS::IoT::Thing, AWS::IoT::Certificate and
// AWS::IoT::Policy with OverrideSettings, Mappings, DeviceConfiguration,
// and the intrinsic functions Ref, Fn::Join, Fn::Select, Fn::Split,
// Fn::Sub and Fn::FindInMap.
package provisioning

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Resource types.
const (
	TypeThing       = "AWS::IoT::Thing"
	TypeCertificate = "AWS::IoT::Certificate"
	TypePolicy      = "AWS::IoT::Policy"
)

// Override actions for a resource that already exists.
const (
	DoNothing = "DO_NOTHING"
	Replace   = "REPLACE"
	Fail      = "FAIL"
	Merge     = "MERGE" // ThingGroups and AttributePayload only
)

// Error is a template problem: where (a path in the template) and the rule.
type Error struct {
	Path string
	Rule string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return "provisioning template: " + e.Rule
	}
	return "provisioning template: " + e.Path + ": " + e.Rule
}

func errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Rule: fmt.Sprintf(format, args...)}
}

// Parameter is a declared parameter.
type Parameter struct {
	Type    string
	Default *string
}

// Resource is a declared resource, not yet evaluated.
type Resource struct {
	Logical    string
	Type       string
	Properties map[string]any
	Override   map[string]string
}

// Template is a parsed provisioning template.
type Template struct {
	Parameters          map[string]Parameter
	Resources           []Resource // in logical-name order
	Mappings            map[string]map[string]map[string]any
	DeviceConfiguration map[string]any
}

// overridable lists, per resource type, the properties OverrideSettings
// may name and the actions each allows.
var overridable = map[string]map[string][]string{
	TypeThing: {
		"AttributePayload": {DoNothing, Replace, Fail, Merge},
		"ThingTypeName":    {DoNothing, Replace, Fail},
		"ThingGroups":      {DoNothing, Replace, Fail, Merge},
	},
	TypeCertificate: {"Status": {DoNothing, Replace, Fail}},
}

// Parse reads a template body and checks its structure: the sections,
// parameter declarations, resource types and override settings. Functions
// and parameter references are checked when the template is evaluated.
func Parse(body string) (*Template, error) {
	var raw map[string]any
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, errorf("", "not a JSON object: %v", err)
	}
	t := &Template{Parameters: map[string]Parameter{}, Mappings: map[string]map[string]map[string]any{}}
	for k := range raw {
		switch k {
		case "Parameters", "Resources", "Mappings", "DeviceConfiguration":
		default:
			return nil, errorf(k, "unknown section (a template has Parameters, Resources, Mappings and DeviceConfiguration)")
		}
	}
	if ps, ok := raw["Parameters"]; ok {
		m, ok := ps.(map[string]any)
		if !ok {
			return nil, errorf("Parameters", "must be an object")
		}
		for name, v := range m {
			p, err := parseParameter("Parameters."+name, v)
			if err != nil {
				return nil, err
			}
			t.Parameters[name] = p
		}
	}
	rs, ok := raw["Resources"].(map[string]any)
	if !ok {
		return nil, errorf("Resources", "is required and must be an object")
	}
	for _, logical := range sortedKeys(rs) {
		r, err := parseResource(logical, rs[logical])
		if err != nil {
			return nil, err
		}
		t.Resources = append(t.Resources, r)
	}
	if err := t.checkCounts(); err != nil {
		return nil, err
	}
	if ms, ok := raw["Mappings"]; ok {
		if err := t.parseMappings(ms); err != nil {
			return nil, err
		}
	}
	if dc, ok := raw["DeviceConfiguration"]; ok {
		m, ok := dc.(map[string]any)
		if !ok {
			return nil, errorf("DeviceConfiguration", "must be an object")
		}
		t.DeviceConfiguration = m
	}
	return t, nil
}

func parseParameter(path string, v any) (Parameter, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Parameter{}, errorf(path, "must be an object with a Type")
	}
	var p Parameter
	for k, x := range m {
		switch k {
		case "Type":
			s, ok := x.(string)
			if !ok || s != "String" {
				return p, errorf(path+".Type", "must be \"String\", got %v", x)
			}
			p.Type = s
		case "Default":
			s, ok := x.(string)
			if !ok {
				return p, errorf(path+".Default", "must be a string")
			}
			p.Default = &s
		default:
			return p, errorf(path+"."+k, "unknown key (a parameter has Type and Default)")
		}
	}
	if p.Type == "" {
		return p, errorf(path+".Type", "is required")
	}
	return p, nil
}

func parseResource(logical string, v any) (Resource, error) {
	path := "Resources." + logical
	m, ok := v.(map[string]any)
	if !ok {
		return Resource{}, errorf(path, "must be an object with Type and Properties")
	}
	r := Resource{Logical: logical}
	r.Type, _ = m["Type"].(string)
	switch r.Type {
	case TypeThing, TypeCertificate, TypePolicy:
	default:
		return r, errorf(path+".Type", "must be %s, %s or %s, got %v", TypeThing, TypeCertificate, TypePolicy, m["Type"])
	}
	for k := range m {
		if k != "Type" && k != "Properties" && k != "OverrideSettings" {
			return r, errorf(path+"."+k, "unknown key (a resource has Type, Properties and OverrideSettings)")
		}
	}
	props, ok := m["Properties"].(map[string]any)
	if !ok {
		return r, errorf(path+".Properties", "is required and must be an object")
	}
	r.Properties = props
	if ov, ok := m["OverrideSettings"]; ok {
		om, ok := ov.(map[string]any)
		if !ok {
			return r, errorf(path+".OverrideSettings", "must be an object")
		}
		allowed := overridable[r.Type]
		if allowed == nil {
			return r, errorf(path+".OverrideSettings", "not available for %s resources", r.Type)
		}
		r.Override = map[string]string{}
		for prop, action := range om {
			actions, known := allowed[prop]
			if !known {
				return r, errorf(path+".OverrideSettings."+prop, "cannot be overridden on a %s (only %s)", r.Type, strings.Join(sortedKeys(allowed), ", "))
			}
			a, _ := action.(string)
			if !contains(actions, a) {
				return r, errorf(path+".OverrideSettings."+prop, "must be one of %s, got %v", strings.Join(actions, ", "), action)
			}
			r.Override[prop] = a
		}
	}
	return r, nil
}

// checkCounts: one thing and one certificate at most (the template
// provisions one device), any number of policies.
func (t *Template) checkCounts() error {
	seen := map[string]string{}
	for _, r := range t.Resources {
		if r.Type == TypePolicy {
			continue
		}
		if prev, ok := seen[r.Type]; ok {
			return errorf("Resources."+r.Logical, "a second %s (the first is %s): a template provisions one device", r.Type, prev)
		}
		seen[r.Type] = r.Logical
	}
	return nil
}

func (t *Template) parseMappings(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return errorf("Mappings", "must be an object")
	}
	for name, x := range m {
		top, ok := x.(map[string]any)
		if !ok {
			return errorf("Mappings."+name, "must be an object of objects")
		}
		t.Mappings[name] = map[string]map[string]any{}
		for k, y := range top {
			second, ok := y.(map[string]any)
			if !ok {
				return errorf("Mappings."+name+"."+k, "must be an object")
			}
			t.Mappings[name][k] = second
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
