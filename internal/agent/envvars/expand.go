package envvars

import "strings"

// The $(VAR) reference syntax Kubernetes uses in env values, command, args
// and subPathExpr.
const (
	operator = '$'
	opener   = '('
	closer   = ')'
)

// ExpandString replaces each $(NAME) reference in input by mapping(NAME).
// "$$" is an escaped "$"; a "$" followed by anything other than "$" or "(",
// a "$" at the end of input and a "$(" with no ")" after it are copied
// literally. The name is everything between "$(" and the first ")".
func ExpandString(input string, mapping func(name string) string) string {
	var b strings.Builder
	checkpoint := 0
	for cursor := 0; cursor < len(input); cursor++ {
		if input[cursor] != operator || cursor+1 >= len(input) {
			continue
		}
		b.WriteString(input[checkpoint:cursor])
		rest := input[cursor+1:]
		switch rest[0] {
		case operator:
			// "$$" -> "$"
			b.WriteByte(operator)
		case opener:
			if end := strings.IndexByte(rest[1:], closer); end >= 0 {
				b.WriteString(mapping(rest[1 : end+1]))
				cursor += end + 1
			} else {
				// Incomplete reference: keep "$(" and scan on after it.
				b.WriteString(input[cursor : cursor+2])
			}
		default:
			b.WriteString(input[cursor : cursor+2])
		}
		cursor++
		checkpoint = cursor + 1
	}
	b.WriteString(input[checkpoint:])
	return b.String()
}

// MappingFor returns a mapping for ExpandString that looks names up in vars
// and leaves a reference to an undefined name as it was written.
func MappingFor(vars map[string]string) func(string) string {
	return func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		return string(operator) + string(opener) + name + string(closer)
	}
}

// Expand applies $(VAR) expansion to a container's command and args against
// its resolved environment, as the kubelet does before creating the
// container. Undefined references stay literal. Nil inputs give nil outputs.
func Expand(command, args []string, env []EnvVar) (cmd, outArgs []string) {
	vars := make(map[string]string, len(env))
	for _, e := range env {
		vars[e.Name] = e.Value
	}
	mapping := MappingFor(vars)
	return expandAll(command, mapping), expandAll(args, mapping)
}

func expandAll(in []string, mapping func(string) string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = ExpandString(s, mapping)
	}
	return out
}
