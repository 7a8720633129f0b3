package audit

import "path/filepath"

// Values of --audit-log-path with a special meaning.
const (
	// LogPathStdout writes the audit log to standard output.
	LogPathStdout = "-"
	// LogPathNone turns auditing off (responses still carry Audit-ID).
	LogPathNone = "none"
)

// ResolveLogPath turns the --audit-log-path flag into the LogConfig.Path to
// use: "" (the flag's default) is <dataDir>/audit/audit.log, "none"
// disables the log (enabled is false), anything else is used as given.
func ResolveLogPath(flag, dataDir string) (path string, enabled bool) {
	switch flag {
	case LogPathNone:
		return "", false
	case "":
		return filepath.Join(dataDir, "audit", "audit.log"), true
	}
	return flag, true
}
