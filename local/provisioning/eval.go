package provisioning

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Plan is an evaluated template: what to create or change for one device.
type Plan struct {
	Thing               *Thing
	Certificate         *Certificate
	Policies            []Policy
	DeviceConfiguration map[string]string
}

// Thing is an AWS::IoT::Thing resource with its values.
type Thing struct {
	Logical       string
	ThingName     string
	Attributes    map[string]string // nil: none declared
	ThingTypeName string
	ThingGroups   []string
	BillingGroup  string
	Override      map[string]string // property → action; absent: the default
}

// Certificate is an AWS::IoT::Certificate resource with its values.
type Certificate struct {
	Logical                   string
	CertificateID             string
	CertificateSigningRequest string
	CertificatePem            string
	CACertificatePem          string
	Status                    string // ACTIVE or INACTIVE (default ACTIVE)
	Override                  map[string]string
}

// Policy is an AWS::IoT::Policy resource: an existing policy by name, or a
// document (named after its hash when no name is given).
type Policy struct {
	Logical  string
	Name     string
	Document string // "": the policy must exist
}

// Evaluate resolves the template's parameters from params (then their
// defaults), evaluates the intrinsic functions and returns the resources.
// A parameter with neither a value nor a default is an error that names
// it, as AWS fails such a provisioning.
func (t *Template) Evaluate(params map[string]string) (*Plan, error) {
	values := map[string]string{}
	for _, name := range sortedKeys(t.Parameters) {
		if v, ok := params[name]; ok {
			values[name] = v
		} else if d := t.Parameters[name].Default; d != nil {
			values[name] = *d
		} else {
			return nil, errorf("Parameters."+name, "has no value and no Default")
		}
	}
	ev := evaluator{t: t, values: values}
	p := &Plan{}
	for _, r := range t.Resources {
		path := "Resources." + r.Logical + ".Properties"
		props := map[string]any{}
		for k, v := range r.Properties {
			x, err := ev.eval(path+"."+k, v)
			if err != nil {
				return nil, err
			}
			props[k] = x
		}
		var err error
		switch r.Type {
		case TypeThing:
			p.Thing, err = thingOf(path, r, props)
		case TypeCertificate:
			p.Certificate, err = certificateOf(path, r, props)
		case TypePolicy:
			var pol Policy
			pol, err = policyOf(path, r, props)
			p.Policies = append(p.Policies, pol)
		}
		if err != nil {
			return nil, err
		}
	}
	if t.DeviceConfiguration != nil {
		p.DeviceConfiguration = map[string]string{}
		for k, v := range t.DeviceConfiguration {
			x, err := ev.eval("DeviceConfiguration."+k, v)
			if err != nil {
				return nil, err
			}
			s, ok := x.(string)
			if !ok {
				return nil, errorf("DeviceConfiguration."+k, "must be a string (nested values are not supported)")
			}
			p.DeviceConfiguration[k] = s
		}
	}
	return p, nil
}

type evaluator struct {
	t      *Template
	values map[string]string
}

// eval evaluates v: strings and numbers stay, lists and objects are
// evaluated element by element, and an object with a single Ref or Fn::
// key is that function's value.
func (ev evaluator) eval(path string, v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			y, err := ev.eval(fmt.Sprintf("%s[%d]", path, i), e)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return ev.call(path+"."+k, k, arg)
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			y, err := ev.eval(path+"."+k, e)
			if err != nil {
				return nil, err
			}
			out[k] = y
		}
		return out, nil
	case nil:
		return nil, errorf(path, "is null")
	}
	return nil, errorf(path, "unexpected value %v", v)
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (ev evaluator) call(path, fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, errorf(path, "takes a parameter name")
		}
		v, ok := ev.values[name]
		if !ok {
			return nil, errorf(path, "refers to %q, which is not a declared parameter", name)
		}
		return v, nil
	case "Fn::Join":
		args, err := ev.list(path, arg, 2)
		if err != nil {
			return nil, err
		}
		delim, ok := args[0].(string)
		items, ok2 := args[1].([]any)
		if !ok || !ok2 {
			return nil, errorf(path, "takes [delimiter, [values]]")
		}
		parts := make([]string, len(items))
		for i, it := range items {
			s, ok := it.(string)
			if !ok {
				return nil, errorf(fmt.Sprintf("%s[1][%d]", path, i), "must be a string")
			}
			parts[i] = s
		}
		return strings.Join(parts, delim), nil
	case "Fn::Select":
		args, err := ev.list(path, arg, 2)
		if err != nil {
			return nil, err
		}
		idx, err := strconv.Atoi(fmt.Sprint(args[0]))
		items, ok := args[1].([]any)
		if err != nil || !ok {
			return nil, errorf(path, "takes [index, [values]]")
		}
		if idx < 0 || idx >= len(items) {
			return nil, errorf(path, "index %d is outside the list of %d", idx, len(items))
		}
		return items[idx], nil
	case "Fn::Split":
		args, err := ev.list(path, arg, 2)
		if err != nil {
			return nil, err
		}
		delim, ok := args[0].(string)
		s, ok2 := args[1].(string)
		if !ok || !ok2 || delim == "" {
			return nil, errorf(path, "takes [delimiter, string] with a non-empty delimiter")
		}
		var out []any
		for _, part := range strings.Split(s, delim) {
			out = append(out, part)
		}
		return out, nil
	case "Fn::Sub":
		text, vars := "", map[string]string{}
		switch a := arg.(type) {
		case string:
			text = a
		case []any:
			if len(a) != 2 {
				return nil, errorf(path, "takes a string, or [string, {name: value}]")
			}
			s, ok := a[0].(string)
			m, ok2 := a[1].(map[string]any)
			if !ok || !ok2 {
				return nil, errorf(path, "takes a string, or [string, {name: value}]")
			}
			text = s
			for k, v := range m {
				x, err := ev.eval(path+"[1]."+k, v)
				if err != nil {
					return nil, err
				}
				xs, ok := x.(string)
				if !ok {
					return nil, errorf(path+"[1]."+k, "must be a string")
				}
				vars[k] = xs
			}
		default:
			return nil, errorf(path, "takes a string, or [string, {name: value}]")
		}
		var missing string
		out := subVar.ReplaceAllStringFunc(text, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") { // ${!Literal} writes ${Literal}
				return "${" + name[1:] + "}"
			}
			if v, ok := vars[name]; ok {
				return v
			}
			if v, ok := ev.values[name]; ok {
				return v
			}
			if missing == "" {
				missing = name
			}
			return m
		})
		if missing != "" {
			return nil, errorf(path, "${%s} is neither a declared parameter nor a variable of the function", missing)
		}
		return out, nil
	case "Fn::FindInMap":
		args, err := ev.list(path, arg, 3)
		if err != nil {
			return nil, err
		}
		var keys [3]string
		for i, a := range args {
			s, ok := a.(string)
			if !ok {
				return nil, errorf(fmt.Sprintf("%s[%d]", path, i), "must be a string")
			}
			keys[i] = s
		}
		v, ok := ev.t.Mappings[keys[0]][keys[1]][keys[2]]
		if !ok {
			return nil, errorf(path, "Mappings has no %s.%s.%s", keys[0], keys[1], keys[2])
		}
		return ev.eval(path, v)
	}
	return nil, errorf(path, "unknown function (provisioning templates have Ref, Fn::Join, Fn::Select, Fn::Split, Fn::Sub and Fn::FindInMap)")
}

// list evaluates a function's argument list of n elements.
func (ev evaluator) list(path string, arg any, n int) ([]any, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != n {
		return nil, errorf(path, "takes a list of %d arguments", n)
	}
	out := make([]any, n)
	for i, x := range a {
		y, err := ev.eval(fmt.Sprintf("%s[%d]", path, i), x)
		if err != nil {
			return nil, err
		}
		out[i] = y
	}
	return out, nil
}

func str(path string, props map[string]any, key string, required bool) (string, error) {
	v, ok := props[key]
	if !ok {
		if required {
			return "", errorf(path+"."+key, "is required")
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", errorf(path+"."+key, "must be a string")
	}
	return s, nil
}

func known(path string, props map[string]any, keys ...string) error {
	for k := range props {
		if !contains(keys, k) {
			return errorf(path+"."+k, "unknown property (expected %s)", strings.Join(keys, ", "))
		}
	}
	return nil
}

func thingOf(path string, r Resource, props map[string]any) (*Thing, error) {
	if err := known(path, props, "ThingName", "AttributePayload", "ThingTypeName", "ThingGroups", "BillingGroup", "PackageVersions"); err != nil {
		return nil, err
	}
	th := &Thing{Logical: r.Logical, Override: r.Override}
	var err error
	if th.ThingName, err = str(path, props, "ThingName", true); err != nil {
		return nil, err
	}
	if th.ThingTypeName, err = str(path, props, "ThingTypeName", false); err != nil {
		return nil, err
	}
	if th.BillingGroup, err = str(path, props, "BillingGroup", false); err != nil {
		return nil, err
	}
	if a, ok := props["AttributePayload"]; ok {
		m, ok := a.(map[string]any)
		if !ok {
			return nil, errorf(path+".AttributePayload", "must be an object of strings")
		}
		th.Attributes = map[string]string{}
		for k, v := range m {
			s, ok := v.(string)
			if !ok {
				return nil, errorf(path+".AttributePayload."+k, "must be a string")
			}
			th.Attributes[k] = s
		}
	}
	if g, ok := props["ThingGroups"]; ok {
		list, ok := g.([]any)
		if !ok {
			return nil, errorf(path+".ThingGroups", "must be a list of group names")
		}
		for i, x := range list {
			s, ok := x.(string)
			if !ok || s == "" {
				return nil, errorf(fmt.Sprintf("%s.ThingGroups[%d]", path, i), "must be a group name")
			}
			th.ThingGroups = append(th.ThingGroups, s)
		}
	}
	return th, nil
}

func certificateOf(path string, r Resource, props map[string]any) (*Certificate, error) {
	if err := known(path, props, "CertificateId", "CertificateSigningRequest", "CertificatePem", "CACertificatePem", "Status"); err != nil {
		return nil, err
	}
	c := &Certificate{Logical: r.Logical, Override: r.Override}
	var err error
	for key, dst := range map[string]*string{"CertificateId": &c.CertificateID, "CertificateSigningRequest": &c.CertificateSigningRequest,
		"CertificatePem": &c.CertificatePem, "CACertificatePem": &c.CACertificatePem, "Status": &c.Status} {
		if *dst, err = str(path, props, key, false); err != nil {
			return nil, err
		}
	}
	ways := 0
	for _, s := range []string{c.CertificateID, c.CertificateSigningRequest, c.CertificatePem} {
		if s != "" {
			ways++
		}
	}
	if ways != 1 {
		return nil, errorf(path, "must give exactly one of CertificateId, CertificateSigningRequest and CertificatePem")
	}
	switch strings.ToUpper(c.Status) {
	case "":
		c.Status = "ACTIVE"
	case "ACTIVE", "INACTIVE":
		c.Status = strings.ToUpper(c.Status)
	default:
		return nil, errorf(path+".Status", "must be ACTIVE or INACTIVE, got %q", c.Status)
	}
	return c, nil
}

func policyOf(path string, r Resource, props map[string]any) (Policy, error) {
	if err := known(path, props, "PolicyName", "PolicyDocument"); err != nil {
		return Policy{}, err
	}
	p := Policy{Logical: r.Logical}
	var err error
	if p.Name, err = str(path, props, "PolicyName", false); err != nil {
		return p, err
	}
	if p.Document, err = str(path, props, "PolicyDocument", false); err != nil {
		return p, err
	}
	switch {
	case (p.Name == "") == (p.Document == ""):
		return p, errorf(path, "must give PolicyName or PolicyDocument, not both")
	case p.Name == "":
		sum := sha256.Sum256([]byte(p.Document))
		p.Name = hex.EncodeToString(sum[:])
	}
	return p, nil
}
