//go:build tools

// The YAML language host is built from its upstream module; this import pins it in go.mod.
package langhosts

import _ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
