package node

import (
	"strings"

	"github.com/skiff-io/skiff/internal/auth/user"
)

// Identity returns the node a user speaks for. isNode is true for a member
// of system:nodes whose name starts with "system:node:"; name is what
// follows the prefix and may be empty, which callers must refuse because
// such a user cannot be tied to one node.
func Identity(u *user.Info) (name string, isNode bool) {
	if u == nil || !strings.HasPrefix(u.Name, user.NodeUserPrefix) || !u.InGroup(user.NodesGroup) {
		return "", false
	}
	return strings.TrimPrefix(u.Name, user.NodeUserPrefix), true
}
