package envvars

import (
	"reflect"
	"testing"
)

func TestExpandString(t *testing.T) {
	vars := map[string]string{"VAR_A": "A", "VAR_B": "B", "VAR_C": "C", "VAR_REF": "$(VAR_A)", "VAR_EMPTY": ""}
	tests := []struct{ name, in, want string }{
		{"whole string", "$(VAR_A)", "A"},
		{"repeat", "$(VAR_A)-$(VAR_A)", "A-A"},
		{"multiple", "$(VAR_A)_$(VAR_B)_$(VAR_C)", "A_B_C"},
		{"backslash is not an escape", `foo\$(VAR_C)bar`, `foo\Cbar`},
		{"nested reference is not re-expanded", "$(VAR_REF)", "$(VAR_A)"},
		{"empty value", "foo$(VAR_EMPTY)bar", "foobar"},
		{"unclosed", "foo$(VAR_Awhoops!", "foo$(VAR_Awhoops!"},
		{"no operator", "f00__(VAR_A)__", "f00__(VAR_A)__"},
		{"shell specials", "$?_boo_$!", "$?_boo_$!"},
		{"bare operator", "$VAR_A", "$VAR_A"},
		{"undefined kept", "$(VAR_DNE)", "$(VAR_DNE)"},
		{"even operators undefined", "$$$$$$(BIG_MONEY)", "$$$(BIG_MONEY)"},
		{"even operators defined", "$$$$$$(VAR_A)", "$$$(VAR_A)"},
		{"odd operators undefined", "$$$$$$$(GOOD_ODDS)", "$$$$(GOOD_ODDS)"},
		{"odd operators defined", "$$$$$$$(VAR_A)", "$$$A"},
		{"missing open", "$VAR_A)", "$VAR_A)"},
		{"shell braces", "${VAR_A}", "${VAR_A}"},
		{"trailing unclosed", "$(VAR_B)_______$(A", "B_______$(A"},
		{"trailing opener", "$(VAR_C)_______$(", "C_______$("},
		{"trailing operator", "$(VAR_A)foobarzab$", "Afoobarzab$"},
		{"nested openers", "--$($($($($--", "--$($($($($--"},
		{"nested openers then text", "$($($($($--foo$(", "$($($($($--foo$("},
		{"name up to first closer", "$(VAR_A$(VAR_B)", "$(VAR_A$(VAR_B)"},
		{"escape inside name", "$(foo$$var)", "$(foo$$var)"},
		{"empty name", "a$()b", "a$()b"},
		{"escaped reference", "$$(VAR_A)", "$(VAR_A)"},
		{"lone dollar", "$", "$"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExpandString(tt.in, MappingFor(vars)); got != tt.want {
				t.Errorf("ExpandString(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	env := []EnvVar{{"A", "1"}, {"B", "two words"}}
	cmd, args := Expand([]string{"/bin/$(A)", "$$(A)"}, []string{"--b=$(B)", "$(C)"}, env)
	if want := []string{"/bin/1", "$(A)"}; !reflect.DeepEqual(cmd, want) {
		t.Errorf("cmd = %q, want %q", cmd, want)
	}
	if want := []string{"--b=two words", "$(C)"}; !reflect.DeepEqual(args, want) {
		t.Errorf("args = %q, want %q", args, want)
	}
	cmd, args = Expand(nil, nil, env)
	if cmd != nil || args != nil {
		t.Errorf("nil in should give nil out, got %q %q", cmd, args)
	}
}
