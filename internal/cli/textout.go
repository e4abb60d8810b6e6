package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strings"
)

// --output text is the AWS CLI's text format, applied to the JSON document
// of -o json (after --query), so that what users of `aws ... --output text`
// pipe into cut, awk and `while read` works the same way here:
//
//   - an object's scalar members go on one line, tab-separated, in
//     alphabetical order of their names; its lists and objects follow, each
//     under an identifier, the member's name in capitals, that starts
//     their lines
//   - a list of objects is one line per object, with the columns of every
//     scalar member any of them has (empty where one lacks it), so that
//     the columns line up
//   - a list of scalars is one line of tab-separated values; under an
//     identifier, one line per value after the identifier
//   - a scalar is a line of its own
//   - true, false and null are written True, False and None, as the AWS
//     CLI writes them; an empty list or object writes nothing
//
// One deviation, so that a record is always one line: a tab, newline,
// carriage return or backslash inside a value is written \t, \n, \r or \\.

// writeText writes the ordered tree v (decodeOrdered's) in the text format.
func writeText(w io.Writer, v any) error {
	var b bytes.Buffer
	textValue(&b, v, "", nil)
	_, err := w.Write(b.Bytes())
	return err
}

// textValue writes v under ident ("" at the top), with the columns of the
// list v belongs to when v is one of its objects.
func textValue(b *bytes.Buffer, v any, ident string, columns []string) {
	switch t := v.(type) {
	case jsonObject:
		textObject(b, t, ident, columns)
	case []any:
		textList(b, t, ident)
	default:
		b.WriteString(textScalar(v))
		b.WriteByte('\n')
	}
}

func textObject(b *bytes.Buffer, o jsonObject, ident string, columns []string) {
	byKey := make(map[string]any, len(o))
	for _, m := range o {
		byKey[m.key] = m.val
	}
	keys := sortedKeys(byKey)
	var cells []string
	var nested []string
	if columns == nil {
		for _, k := range keys {
			if isScalar(byKey[k]) {
				cells = append(cells, textScalar(byKey[k]))
			} else {
				nested = append(nested, k)
			}
		}
	} else {
		in := make(map[string]bool, len(columns))
		for _, k := range columns {
			in[k] = true
			if v, ok := byKey[k]; ok {
				cells = append(cells, textScalar(v))
			} else {
				cells = append(cells, "")
			}
		}
		for _, k := range keys {
			if !in[k] {
				nested = append(nested, k)
			}
		}
	}
	if len(cells) > 0 {
		if ident != "" {
			cells = append([]string{ident}, cells...)
		}
		b.WriteString(strings.Join(cells, "\t"))
		b.WriteByte('\n')
	}
	for _, k := range nested {
		textValue(b, byKey[k], strings.ToUpper(k), nil)
	}
}

func textList(b *bytes.Buffer, l []any, ident string) {
	if len(l) == 0 {
		return
	}
	var columns []string
	seen := map[string]bool{}
	objects := false
	for _, el := range l {
		if o, ok := el.(jsonObject); ok {
			objects = true
			for _, m := range o {
				if isScalar(m.val) && !seen[m.key] {
					seen[m.key] = true
					columns = append(columns, m.key)
				}
			}
		}
	}
	if objects {
		sort.Strings(columns)
		if columns == nil {
			columns = []string{} // no scalar columns, but still a list's
		}
		for _, el := range l {
			textValue(b, el, ident, columns)
		}
		return
	}
	var scalars, nested []any
	for _, el := range l {
		if isScalar(el) {
			scalars = append(scalars, el)
		} else {
			nested = append(nested, el)
		}
	}
	if len(scalars) > 0 {
		if ident != "" {
			for _, s := range scalars {
				b.WriteString(ident + "\t" + textScalar(s) + "\n")
			}
		} else {
			cells := make([]string, len(scalars))
			for i, s := range scalars {
				cells[i] = textScalar(s)
			}
			b.WriteString(strings.Join(cells, "\t") + "\n")
		}
	}
	for _, el := range nested {
		textValue(b, el, ident, nil)
	}
}

func isScalar(v any) bool {
	switch v.(type) {
	case jsonObject, []any:
		return false
	}
	return true
}

var textEscapes = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

// textScalar is one value as the text format writes it. A list or object
// in a column (a member that is a scalar in another element of the list)
// is written as compact JSON.
func textScalar(v any) string {
	switch t := v.(type) {
	case string:
		return textEscapes.Replace(t)
	case json.Number:
		return t.String()
	case bool:
		if t {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	}
	var b bytes.Buffer
	encodeOrdered(&b, v, "")
	var c bytes.Buffer
	if json.Compact(&c, b.Bytes()) != nil {
		return textEscapes.Replace(b.String())
	}
	return textEscapes.Replace(c.String())
}
