"""``pulumi-resource-datagol``: DataGOL's resources as a packaged Pulumi provider plugin.

The second face of the same core: it serves ``datagol:index:ExtractionRun`` and
``datagol:index:ExtractionRunGroup`` to programs in any Pulumi language (YAML, TypeScript, Go,
Python through a generated SDK). It only translates: camelCase property names and the engine's
property values in, the core's lifecycle (:mod:`datagol_pulumi.provider`, which delegates to
:mod:`datagol_pulumi.runs`) unchanged, camelCase outputs back.

Modules: :mod:`.schema` (the package schema, from :mod:`datagol_pulumi.properties`),
:mod:`.translate` (names and values), :mod:`.provider` (the gRPC methods), :mod:`.__main__`
(the executable).
"""
