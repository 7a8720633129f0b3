package iptables

import (
	"bufio"
	"bytes"
	"slices"
	"sort"
	"strings"
)

// unknownRule marks a chain found in the kernel whose rules Skiff does
// not know (left by an earlier run): it never equals a desired rule, so
// the chain is rewritten or deleted.
const unknownRule = "\x00unknown"

// tables is the order tables are written in.
func tables() [2]string { return [2]string{TableFilter, TableNAT} }

// Diff returns the iptables-restore --noflush input that turns the
// applied rule set into the desired one: every new or changed chain is
// flushed and refilled, every vanished chain flushed and deleted, and
// unchanged chains are not mentioned. It returns nil when nothing
// changes. Tables are committed together in one run of iptables-restore.
func Diff(applied, desired Ruleset) []byte {
	var buf bytes.Buffer
	for _, table := range tables() {
		var write, del []string
		for chain, rules := range desired[table] {
			old, ok := applied[table][chain]
			if !ok || !slices.Equal(old, rules) {
				write = append(write, chain)
			}
		}
		for chain := range applied[table] {
			if _, ok := desired[table][chain]; !ok {
				del = append(del, chain)
			}
		}
		if len(write) == 0 && len(del) == 0 {
			continue
		}
		sort.Strings(write)
		sort.Strings(del)
		buf.WriteString("*" + table + "\n")
		// Declaring a chain flushes it; rules follow, and deletions come
		// last, once no rewritten chain refers to a deleted one any more.
		for _, c := range write {
			buf.WriteString(":" + c + " - [0:0]\n")
		}
		for _, c := range del {
			buf.WriteString(":" + c + " - [0:0]\n")
		}
		for _, c := range write {
			for _, r := range desired[table][c] {
				buf.WriteString(r)
				buf.WriteByte('\n')
			}
		}
		for _, c := range del {
			buf.WriteString("-X " + c + "\n")
		}
		buf.WriteString("COMMIT\n")
	}
	if buf.Len() == 0 {
		return nil
	}
	return buf.Bytes()
}

// ownedChains parses iptables-save output for the chains Skiff owns.
func ownedChains(save []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(save))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, ":"+Prefix) {
			if name, _, ok := strings.Cut(line[1:], " "); ok {
				out = append(out, name)
			}
		}
	}
	return out
}
