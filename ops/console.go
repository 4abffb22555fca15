package ops

import (
	"encoding/json"
	"net/http"
)

// AuthError is why the guard refuses a request: Status is 401 (no token,
// or an unknown one) with Msg the answer's error.
type AuthError struct {
	Status int
	Msg    string
}

func (e *AuthError) Error() string { return e.Msg }

// Authenticate tells who made r by its bearer token, the way Wrap does,
// for a handler served beside the API that must not pass through Wrap:
// the console's event stream, which Wrap would hold until it ends to mask
// a viewer's numbers (the stream masks them itself, with MaskJSON). The
// error is an *AuthError. Without tokens everyone is an operator.
func (g *Guard) Authenticate(r *http.Request) (Caller, error) {
	c, status, msg := g.authenticate(r)
	if status != 0 {
		return Caller{}, &AuthError{Status: status, Msg: msg}
	}
	return c, nil
}

// MaskJSON masks the phone numbers in the strings of the JSON document b,
// as the guard masks the API's answers to a viewer (CS-PRIVACY). A
// document that is not JSON comes back as it was.
func MaskJSON(b []byte) []byte {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return b
	}
	out, err := json.Marshal(mask(v))
	if err != nil {
		return b
	}
	return out
}
