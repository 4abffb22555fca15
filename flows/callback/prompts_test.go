package callback_test

import (
	"slices"
	"testing"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/callback"
)

// TestPromptsChecked: kefu check asks for every prompt a callback says.
func TestPromptsChecked(t *testing.T) {
	if says := append(callback.Prompts(), callback.FollowUpPrompts()...); !slices.Equal(says, flows.CallbackPrompts) {
		t.Errorf("callbacks and follow-ups say %v, kefu check asks for %v", says, flows.CallbackPrompts)
	}
}
