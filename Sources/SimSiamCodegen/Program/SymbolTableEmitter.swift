import SimSiamABI
import SimSiamIR
import SimSiamPasses

/// The symbol table (name, arena, kind, group, offset, shape of every named
/// tensor) and the small functions that describe the library to the runtime.
struct SymbolTableEmitter {
    let graph: Graph
    let layout: ArenaLayout
    let precision: Precision
    let workspaceElements: Int
    let featureDimension: Int

    private func row(_ name: String, arena: String, kind: String, group: Int, offset: Int, shape: Shape) -> String {
        let dims = (shape.dims + Array(repeating: 0, count: 4 - shape.rank)).map(String.init).joined(separator: ", ")
        return "  {\"\(name)\", \(arena), \(kind), \(group), \(offset), \(shape.elementCount), \(shape.rank), {\(dims)}},"
    }

    var rows: [String] {
        let state = graph.state
        var rows: [String] = []
        for (index, p) in state.parameters.enumerated() {
            rows.append(row(p.name, arena: LibraryABI.Arena.params.cName, kind: p.isTrainable ? LibraryABI.Kind.trainable.cName : LibraryABI.Kind.frozen.cName,
                            group: p.isTrainable ? p.group : -1, offset: layout.parameterOffsets[index], shape: p.shape))
        }
        for (index, b) in state.buffers.enumerated() {
            rows.append(row(b.name, arena: LibraryABI.Arena.buffers.cName,
                            kind: b.role == .runningMean ? LibraryABI.Kind.runningMean.cName : LibraryABI.Kind.runningVar.cName,
                            group: -1, offset: layout.bufferOffsets[index], shape: b.shape))
        }
        for (index, counter) in state.counters.enumerated() {
            rows.append(row(counter.name, arena: LibraryABI.Arena.counters.cName, kind: LibraryABI.Kind.numBatchesTracked.cName,
                            group: -1, offset: index, shape: []))
        }
        for (index, input) in graph.inputs.enumerated() {
            rows.append(row(input.name, arena: LibraryABI.Arena.inputs.cName, kind: LibraryABI.Kind.input.cName, group: -1, offset: index, shape: input.shape))
        }
        return rows
    }

    var source: String {
        let state = graph.state
        let batch = graph.inputs.first?.shape[0] ?? 0
        let groupNames = state.groups.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            /* ===== Symbol table ===== */

            static const simsiam_symbol_t symbol_table[] = {
            \(rows.joined(separator: "\n"))
            };

            static const char* const group_names[] = {\(groupNames)};

            int64_t simsiam_abi_version(void) { return SIMSIAM_ABI_VERSION; }
            int64_t simsiam_scalar_bytes(void) { return \(precision.bytes); }
            int64_t simsiam_batch(void) { return \(batch); }
            int64_t simsiam_symbol_count(void) { return \(rows.count); }
            const simsiam_symbol_t* simsiam_symbols(void) { return symbol_table; }
            int64_t simsiam_group_count(void) { return \(state.groups.count); }
            const char* simsiam_group_name(int64_t group) { return group >= 0 && group < \(state.groups.count) ? group_names[group] : 0; }

            int64_t simsiam_arena_numel(int64_t arena) {
              switch (arena) {
                case SIMSIAM_ARENA_PARAMS: case SIMSIAM_ARENA_GRADS: case SIMSIAM_ARENA_MOMENTUM: return \(layout.parameterElements);
                case SIMSIAM_ARENA_BUFFERS: return \(layout.bufferElements);
                case SIMSIAM_ARENA_COUNTERS: return \(state.counters.count);
                case SIMSIAM_ARENA_WORKSPACE: return \(workspaceElements);
                case SIMSIAM_ARENA_INPUTS: return \(graph.inputs.count);
                default: return 0;
              }
            }

            """
    }
}
