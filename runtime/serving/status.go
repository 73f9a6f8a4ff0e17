package serving

import (
	"errors"
	"time"
)

// States of an endpoint, as every Sluice resource reports them.
const (
	StateReady       = "Ready"
	StateProgressing = "Progressing"
	StateFailed      = "Failed"
)

// Reasons say why an endpoint is in its state.
const (
	// ReasonDeployed: the endpoint serves the config last deployed.
	ReasonDeployed = "Deployed"
	// ReasonLoading: a new version is loading and warming beside the old.
	ReasonLoading = "Loading"
	// ReasonConfigInvalid: the config itself is wrong; nothing was loaded.
	ReasonConfigInvalid = "ConfigInvalid"
	// ReasonModelLoadFailed: the file is missing, unreadable, or ONNX
	// Runtime refuses it.
	ReasonModelLoadFailed = "ModelLoadFailed"
	// ReasonChecksumMismatch: the file's sha256 is not the one recorded.
	ReasonChecksumMismatch = "ChecksumMismatch"
	// ReasonSignatureMismatch: the model's inputs differ from the declared
	// ones, or cannot be batched.
	ReasonSignatureMismatch = "SignatureMismatch"
	// ReasonDeviceUnavailable: an instance could not get its GPU and its
	// group has no fallback.
	ReasonDeviceUnavailable = "DeviceUnavailable"
	// ReasonWarmupFailed: the warm-up batch failed on an instance.
	ReasonWarmupFailed = "WarmupFailed"
	// ReasonRemoved: the endpoint was removed.
	ReasonRemoved = "Removed"
)

// EndpointStatus is what Status reports about one endpoint. While a failed
// deploy leaves the previous version serving, State is Failed and Serving
// still names the version that answers.
type EndpointStatus struct {
	Name    string `json:"name"`
	State   string `json:"state"`
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
	// Serving is the version answering requests; 0 when none is loaded.
	Serving int    `json:"serving_version"`
	Model   string `json:"model,omitempty"`
	Alias   string `json:"alias,omitempty"`
	// Hash identifies the config serving (see Config).
	Hash string `json:"config_hash,omitempty"`
	// Instances say where each instance of the serving version runs.
	Instances []InstanceStatus `json:"instances,omitempty"`
	// Canary and Shadow are the route's other versions, if any.
	Canary *VariantStatus `json:"canary,omitempty"`
	Shadow *VariantStatus `json:"shadow,omitempty"`
	// Since is when State last changed.
	Since time.Time `json:"since"`
}

// VariantStatus names a canary or shadow version.
type VariantStatus struct {
	Version int    `json:"version"`
	Alias   string `json:"alias,omitempty"`
	// Weight is the percent of requests a canary answers.
	Weight float64 `json:"weight,omitempty"`
}

// Loaded reports whether the endpoint has a model answering requests.
func (s EndpointStatus) Loaded() bool { return s.Serving > 0 || s.Hash != "" }

// DeployError is why a Deploy was refused; Reason is one of the Reason
// constants. The previous version, if any, keeps serving.
type DeployError struct {
	Endpoint string
	Reason   string
	Err      error
}

// Error says which endpoint refused the deploy, the reason, and why.
func (e *DeployError) Error() string {
	return "deploy endpoint " + e.Endpoint + ": " + e.Reason + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *DeployError) Unwrap() error { return e.Err }

// ReasonOf returns the reason of a Deploy error, or "" for other errors.
func ReasonOf(err error) string {
	var de *DeployError
	if errors.As(err, &de) {
		return de.Reason
	}
	return ""
}
