package podspec

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// maxDiffLines bounds the diff appended to immutability errors.
const maxDiffLines = 40

// specDiff describes how two pod specs differ, one changed field per pair
// of lines ("- path: old" / "+ path: new"), for the message of a rejected
// pod update.
func specDiff(oldSpec, newSpec *corev1.PodSpec) string {
	var lines []string
	diffJSON("spec", toJSONValue(oldSpec), toJSONValue(newSpec), &lines)
	if len(lines) > maxDiffLines {
		lines = append(lines[:maxDiffLines], "  ...")
	}
	return strings.Join(lines, "\n")
}

func toJSONValue(v interface{}) interface{} {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out interface{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil
	}
	return out
}

// diffJSON appends the differences between two decoded JSON values.
func diffJSON(path string, a, b interface{}, lines *[]string) {
	am, aIsMap := a.(map[string]interface{})
	bm, bIsMap := b.(map[string]interface{})
	if aIsMap && bIsMap {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			diffJSON(path+"."+k, am[k], bm[k], lines)
		}
		return
	}
	al, aIsList := a.([]interface{})
	bl, bIsList := b.([]interface{})
	if aIsList && bIsList && len(al) == len(bl) {
		for i := range al {
			diffJSON(fmt.Sprintf("%s[%d]", path, i), al[i], bl[i], lines)
		}
		return
	}
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	if string(aj) == string(bj) {
		return
	}
	if a != nil {
		*lines = append(*lines, fmt.Sprintf("- %s: %s", path, aj))
	}
	if b != nil {
		*lines = append(*lines, fmt.Sprintf("+ %s: %s", path, bj))
	}
}

// sortedStringKeys returns the keys of m in order.
func sortedStringKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
