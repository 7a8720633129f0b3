package batch

// The time zone database is embedded so that spec.timeZone validates the
// same way on hosts without /usr/share/zoneinfo (minimal images).
import _ "time/tzdata"
