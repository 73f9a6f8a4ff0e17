package planjson

// Promotion is one alias move of a model change (format 1.1), with the
// evidence a reviewer needs: every gate's verdict and each metric's move
// from the incumbent, the version the alias points to now.
type Promotion struct {
	Model string `json:"model"`
	Alias string `json:"alias"`
	// From is the version the alias points to now, 0 when none; To is the
	// version it would point to, 0 when git removed the alias.
	From int `json:"from"`
	To   int `json:"to"`
	// Pending names the experiment whose training in this same plan will
	// register To ("experiments.fraud-rf"): Gates are checked then, on its
	// real metrics, and Verdicts is empty.
	Pending string `json:"pending,omitempty"`
	// Gates are the gates To must pass, as "f1 >= 0.85".
	Gates    []string  `json:"gates"`
	Verdicts []Verdict `json:"verdicts"`
	// Archives is the version archive_previous would archive; 0 for none.
	Archives int `json:"archives,omitempty"`
	// Refused says why apply would refuse this move; empty when it would not.
	Refused string `json:"refused,omitempty"`
}

// Verdict is one gate checked against the candidate version.
type Verdict struct {
	Metric string `json:"metric"`
	// Gate is the comparison as written, e.g. ">= incumbent - 0.01".
	Gate string `json:"gate"`
	// DeclaredBy is the resource that declares the gate.
	DeclaredBy string `json:"declared_by"`
	// Candidate and Incumbent are the two versions' values, null when
	// unknown; Delta is Candidate - Incumbent; Bound is what Candidate was
	// compared with.
	Candidate        *float64 `json:"candidate"`
	Incumbent        *float64 `json:"incumbent"`
	IncumbentVersion int      `json:"incumbent_version,omitempty"`
	Delta            *float64 `json:"delta"`
	Bound            *float64 `json:"bound"`
	Pass             bool     `json:"pass"`
	Message          string   `json:"message"`
}
