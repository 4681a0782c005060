// A manager's team funnel for this month, read from the phone's store and refreshed when a
// sync or a write changes an opportunity. Every figure comes from the library.

import Fieldsales
import SwiftUI

struct TeamDashboardView: View {
    let engine: Engine
    let from: DateComponents
    let to: DateComponents
    @State private var funnel: FunnelDashboard?
    @State private var problem: String?

    var body: some View {
        List {
            if let funnel {
                Section("Pipeline") {
                    Text("\(funnel.total.pipeline.minor / 100) \(funnel.currency)")
                    Text("Weighted: \(funnel.total.weightedForecast.minor / 100) \(funnel.currency)")
                }
                Section("By rep") {
                    ForEach(funnel.rows, id: \.groupId) { row in
                        HStack {
                            Text(row.groupName)
                            Spacer()
                            Text("\(row.figures.pipeline.minor / 100)")
                        }
                    }
                }
            }
            if let problem { Text(problem).foregroundColor(.red) }
        }
        .task {
            await load()
            for await _ in engine.changes(of: [.opportunity]) { await load() }
        }
    }

    private func load() async {
        do {
            funnel = try await engine.funnelDashboard(from: from, to: to, groupBy: .rep)
        } catch {
            problem = "\(error)"
        }
    }
}
