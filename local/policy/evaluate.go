package policy

import "sort"

// compiled is a Document prepared for Evaluate: templates for actions,
// resources and condition values, built once at Parse so the per-message
// checks (iot:Receive runs for every delivery) only walk them.
type compiled struct {
	stmts []cstmt
}

type cstmt struct {
	allow       bool
	actions     []template // folded match; no variables
	notAction   bool
	resources   []template
	notResource bool
	conds       []cond
}

func compile(doc *Document) (*compiled, error) {
	vars := doc.Version == Version2012
	c := &compiled{stmts: make([]cstmt, len(doc.Statements))}
	for i := range doc.Statements {
		st := &doc.Statements[i]
		cs := &c.stmts[i]
		cs.allow = st.Effect == "Allow"
		acts := st.Action
		if len(st.NotAction) > 0 {
			acts, cs.notAction = st.NotAction, true
		}
		for _, a := range acts {
			cs.actions = append(cs.actions, compileTemplate(a, true, false))
		}
		res := st.Resource
		if len(st.NotResource) > 0 {
			res, cs.notResource = st.NotResource, true
		}
		for _, r := range res {
			cs.resources = append(cs.resources, compileTemplate(r, true, vars))
		}
		for _, opName := range sortedKeys(st.Condition) {
			op, ok := parseOperator(opName)
			if !ok {
				return nil, malformed("", "statement %d: %q is not a condition operator", i, opName)
			}
			keys := st.Condition[opName]
			for _, key := range sortedKeys(keys) {
				cs.conds = append(cs.conds, compileCond(op, key, keys[key], vars))
			}
		}
	}
	return c, nil
}

// evalState is one evaluation's scratch: the context and the keys it could
// not resolve. It holds a copy of the Context, not a pointer to the
// Request's: escape analysis does not tell the fields of *evalState apart,
// and the growing missing list would otherwise move every Request to the
// heap.
type evalState struct {
	ctx     Context
	missing []string
}

func (e *evalState) miss(name string) {
	for _, m := range e.missing {
		if m == name {
			return
		}
	}
	e.missing = append(e.missing, name)
}

func (e *evalState) missKey(k *keyRef) {
	if k != nil {
		e.miss(k.name)
	}
}

// applies reports whether the statement speaks to the request: its action,
// its resource and all its conditions match.
func (s *cstmt) applies(e *evalState, req *Request) bool {
	hit := false
	for i := range s.actions {
		if ok, _ := s.actions[i].match(req.Action, true, &e.ctx); ok {
			hit = true
			break
		}
	}
	if hit == s.notAction {
		return false
	}
	hit = false
	for i := range s.resources {
		ok, miss := s.resources[i].match(req.Resource, false, &e.ctx)
		e.missKey(miss)
		if ok {
			hit = true
			break
		}
	}
	if hit == s.notResource {
		return false
	}
	for i := range s.conds {
		if !s.conds[i].holds(e) {
			return false
		}
	}
	return true
}

// Evaluate answers req against the policies that apply to the connection,
// as AWS does: each statement allows, denies or has no opinion; an explicit
// Deny wins; without an Allow the answer is an implicit deny. By lists the
// deciding statements; Missing the policy variables and condition keys the
// context could not resolve (sorted).
func Evaluate(policies []Policy, req Request) Decision {
	e := evalState{ctx: req.Context}
	var allows, denies []Match
	for _, p := range policies {
		doc := p.Document
		if doc == nil {
			continue
		}
		c := doc.compiled
		if c == nil {
			var err error
			if c, err = compile(doc); err != nil {
				continue
			}
		}
		for i := range c.stmts {
			s := &c.stmts[i]
			if !s.applies(&e, &req) {
				continue
			}
			m := Match{Policy: p.Name, Statement: i, Sid: doc.Statements[i].Sid}
			if s.allow {
				allows = append(allows, m)
			} else {
				denies = append(denies, m)
			}
		}
	}
	d := Decision{Effect: ImplicitDeny, Missing: e.missing}
	if len(d.Missing) > 1 {
		sort.Strings(d.Missing)
	}
	switch {
	case len(denies) > 0:
		d.Effect, d.By = ExplicitDeny, denies
	case len(allows) > 0:
		d.Effect, d.By = Allowed, allows
	}
	return d
}
