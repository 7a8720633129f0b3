package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/skiff-io/skiff/internal/encryption"
	"github.com/skiff-io/skiff/internal/pki"
)

// newSecretsEncryptCommand is `skiff secrets-encrypt status|rotate`, which
// asks the server to report on or rotate the key encrypting Secrets.
func newSecretsEncryptCommand() *cobra.Command {
	var dataDir, kubeconfig string
	cmd := &cobra.Command{
		Use:   "secrets-encrypt",
		Short: "Show or rotate the key that encrypts Secrets in etcd",
		Args:  cobra.NoArgs,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&dataDir, "data-dir", "/var/lib/skiff", "the server's data directory (for the default --kubeconfig)")
	pf.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of a system:masters user (default: <data-dir>/admin.kubeconfig)")
	config := func() (*rest.Config, error) {
		path := kubeconfig
		if path == "" {
			path = filepath.Join(dataDir, pki.KubeconfigFile)
		}
		rc, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, fmt.Errorf("loading kubeconfig: %w", err)
		}
		return rc, nil
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "List the encryption keys and how many Secrets each encrypts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rc, err := config()
			if err != nil {
				return err
			}
			var st encryption.Status
			if err := callServer(cmd.Context(), rc, http.MethodGet, encryption.StatusPath, &st); err != nil {
				return err
			}
			printEncryptionStatus(cmd.OutOrStdout(), &st)
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "rotate",
		Short: "Encrypt Secrets under a new key, re-encrypt every Secret and drop the old keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rc, err := config()
			if err != nil {
				return err
			}
			var res encryption.RotateResult
			if err := callServer(cmd.Context(), rc, http.MethodPost, encryption.RotatePath, &res); err != nil {
				return err
			}
			removed := "none"
			if len(res.RemovedKeys) > 0 {
				removed = strings.Join(res.RemovedKeys, ", ")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "New primary key: %s\nSecrets re-encrypted: %d\nKeys removed: %s\n", res.NewKey, res.Rewritten, removed)
			return nil
		},
	})
	return cmd
}

// callServer sends one request with rc's credentials and decodes the JSON
// answer into out, or turns a Status answer into an error.
func callServer(ctx context.Context, rc *rest.Config, method, path string, out any) error {
	client, err := rest.HTTPClientFor(rc)
	if err != nil {
		return fmt.Errorf("building client: %w", err)
	}
	url := strings.TrimSuffix(rc.Host, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var st metav1.Status
		if json.Unmarshal(body, &st) == nil && st.Message != "" {
			return fmt.Errorf("server refused: %s", st.Message)
		}
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decoding the server's answer: %w", err)
	}
	return nil
}

// printEncryptionStatus renders a status as a short table.
func printEncryptionStatus(w io.Writer, st *encryption.Status) {
	state := "disabled (Secrets are written unencrypted)"
	if st.Encrypted {
		state = "enabled"
	}
	fmt.Fprintf(w, "Encryption: %s\nSecrets: %d (%d unencrypted)\n\n", state, st.Total, st.Unencrypted)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tPROVIDER\tPRIMARY\tSECRETS")
	for _, k := range st.Keys {
		name := k.Name
		if !k.Configured {
			name += " (not configured!)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\n", name, k.Provider, k.Primary, k.Secrets)
	}
	tw.Flush()
}
