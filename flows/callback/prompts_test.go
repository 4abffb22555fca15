package callback_test

import (
	"slices"
	"testing"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/callback"
)

// TestPromptsChecked: kefu check asks for every prompt a callback says.
func TestPromptsChecked(t *testing.T) {
	if !slices.Equal(callback.Prompts(), flows.CallbackPrompts) {
		t.Errorf("callback says %v, kefu check asks for %v", callback.Prompts(), flows.CallbackPrompts)
	}
}
