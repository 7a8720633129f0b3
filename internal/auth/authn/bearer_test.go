package authn

import (
	"encoding/base64"
	"net/http/httptest"
	"testing"
)

func TestBearerToken(t *testing.T) {
	enc := func(s string) string {
		return WebSocketBearerProtocolPrefix + base64.RawURLEncoding.EncodeToString([]byte(s))
	}
	tests := []struct {
		name         string
		headers      map[string][]string
		wantOK       bool
		wantErr      bool
		wantAuthz    string // Authorization header left afterwards
		wantProtocol string // Sec-WebSocket-Protocol left afterwards
	}{
		{name: "no header"},
		{name: "other scheme", headers: map[string][]string{"Authorization": {"Basic Zm9vOmJhcg=="}}, wantAuthz: "Basic Zm9vOmJhcg=="},
		{name: "empty bearer", headers: map[string][]string{"Authorization": {"Bearer "}}, wantAuthz: "Bearer "},
		{name: "valid", headers: map[string][]string{"Authorization": {"Bearer good"}}, wantOK: true},
		{name: "scheme case-insensitive", headers: map[string][]string{"Authorization": {"bearer good"}}, wantOK: true},
		{name: "unknown token", headers: map[string][]string{"Authorization": {"Bearer bad"}}, wantErr: true, wantAuthz: "Bearer bad"},
		{name: "websocket token", headers: map[string][]string{"Connection": {"Upgrade"}, "Upgrade": {"websocket"},
			"Sec-Websocket-Protocol": {"v4.channel.k8s.io, " + enc("good")}}, wantOK: true, wantProtocol: "v4.channel.k8s.io"},
		{name: "websocket token in repeated header", headers: map[string][]string{"Connection": {"keep-alive, Upgrade"}, "Upgrade": {"WebSocket"},
			"Sec-Websocket-Protocol": {enc("good"), "a, b"}}, wantOK: true, wantProtocol: "a,b"},
		{name: "websocket bad token", headers: map[string][]string{"Connection": {"Upgrade"}, "Upgrade": {"websocket"},
			"Sec-Websocket-Protocol": {"a," + enc("bad")}}, wantErr: true, wantProtocol: "a," + enc("bad")},
		{name: "websocket token alone", headers: map[string][]string{"Connection": {"Upgrade"}, "Upgrade": {"websocket"},
			"Sec-Websocket-Protocol": {enc("good")}}, wantErr: true, wantProtocol: enc("good")},
		{name: "websocket two tokens", headers: map[string][]string{"Connection": {"Upgrade"}, "Upgrade": {"websocket"},
			"Sec-Websocket-Protocol": {"a," + enc("good") + "," + enc("good")}}, wantErr: true, wantProtocol: "a," + enc("good") + "," + enc("good")},
		{name: "websocket bad encoding", headers: map[string][]string{"Connection": {"Upgrade"}, "Upgrade": {"websocket"},
			"Sec-Websocket-Protocol": {"a," + WebSocketBearerProtocolPrefix + "!!"}}, wantErr: true, wantProtocol: "a," + WebSocketBearerProtocolPrefix + "!!"},
		{name: "protocol ignored without upgrade", headers: map[string][]string{"Sec-Websocket-Protocol": {"a," + enc("good")}}, wantProtocol: "a," + enc("good")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api", nil)
			for k, v := range tt.headers {
				r.Header[k] = v
			}
			u, ok, err := BearerToken(staticToken("good", "alice")).AuthenticateRequest(r)
			if ok != tt.wantOK || (err != nil) != tt.wantErr {
				t.Fatalf("ok=%v err=%v, want ok=%v error=%v", ok, err, tt.wantOK, tt.wantErr)
			}
			if ok && u.Name != "alice" {
				t.Fatalf("user %+v", u)
			}
			if got := r.Header.Get("Authorization"); got != tt.wantAuthz {
				t.Errorf("Authorization left %q, want %q", got, tt.wantAuthz)
			}
			if got := r.Header.Get("Sec-WebSocket-Protocol"); got != tt.wantProtocol && len(r.Header.Values("Sec-WebSocket-Protocol")) < 2 {
				t.Errorf("Sec-WebSocket-Protocol left %q, want %q", got, tt.wantProtocol)
			}
		})
	}
}
