package registry

import (
	"fmt"
	"regexp"
	"strings"
)

// MaxAliasLength is MLflow's limit on an alias name.
const MaxAliasLength = 255

var (
	aliasChars   = regexp.MustCompile(`^[\w\-]*$`)
	versionAlias = regexp.MustCompile(`^[vV][0-9]+$`)
)

// ValidateAlias reports an alias name MLflow would refuse: empty, longer
// than MaxAliasLength, holding other than letters, digits, _ and -, or
// reserved ("latest" in any case, and v<digits> or V<digits>, which name
// versions). Case is preserved: "Production" and "production" are two
// aliases. MLflow's legacy stage names (Staging, Production, Archived) pass
// as ordinary aliases.
func ValidateAlias(alias string) error {
	switch {
	case alias == "":
		return fmt.Errorf("alias name is empty")
	case len(alias) > MaxAliasLength:
		return fmt.Errorf("alias %.40q... is %d characters, the limit is %d", alias, len(alias), MaxAliasLength)
	case !aliasChars.MatchString(alias):
		return fmt.Errorf("alias %q: names may only contain letters, digits, underscores (_) and dashes (-)", alias)
	case strings.EqualFold(alias, "latest"):
		return fmt.Errorf("alias %q is reserved: \"latest\" (in any case) always means the newest version", alias)
	case versionAlias.MatchString(alias):
		return fmt.Errorf("alias %q is reserved: v<number> names a version", alias)
	}
	return nil
}

func validateModel(model string) error {
	if model == "" {
		return fmt.Errorf("model name is empty")
	}
	return nil
}
