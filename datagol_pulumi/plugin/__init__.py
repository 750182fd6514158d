"""``pulumi-resource-datagol``: DataGOL's resources as a packaged Pulumi provider plugin.

The second face of the same core: it serves ``datagol:index:ExtractionRun``,
``datagol:index:ExtractionRunGroup`` and ``datagol:index:ExtractionRunCompletion`` to programs in
any Pulumi language (YAML, TypeScript, Go, Python through a generated SDK). It only translates:
camelCase property names and the engine's property values in, the core's lifecycle
(:mod:`datagol_pulumi.operations`) unchanged, camelCase outputs back.

Modules: :mod:`.schema` (the package schema, from :mod:`datagol_pulumi.properties`),
:mod:`.translate` (names and values), :mod:`.provider` (the gRPC methods), :mod:`.completion`
(the completion's methods: the wait as a step of its own), :mod:`.__main__` (the executable).
"""
