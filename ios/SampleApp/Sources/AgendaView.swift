// The rep's agenda for today and a sync button with its progress; the list refreshes when a
// write or a sync changes a task.

import Fieldsales
import SwiftUI

struct AgendaView: View {
    let engine: Engine
    @State private var agenda: Agenda?
    @State private var syncing: SyncProgress?
    @State private var problem: String?

    var body: some View {
        List {
            if let agenda {
                Section("Today \(agenda.date)") {
                    ForEach(agenda.schedule + agenda.tasksDue, id: \.id) { task in Text(task.title) }
                }
                if !agenda.overdue.isEmpty {
                    Section("Overdue") {
                        ForEach(agenda.overdue, id: \.id) { task in Text(task.title).foregroundColor(.red) }
                    }
                }
            }
            Button(syncing == nil ? "Sync" : "Syncing… \(syncing?.recordsDown ?? 0) received") {
                _Concurrency.Task { await sync() }
            }
            if let problem { Text(problem).foregroundColor(.red) }
        }
        .task {
            await load()
            for await _ in engine.changes(of: [.task]) { await load() }
        }
    }

    private func load() async {
        do { agenda = try await engine.today() } catch { problem = "\(error)" }
    }

    private func sync() async {
        do {
            for try await state in engine.syncing() {
                if case .running(let progress) = state { syncing = progress }
            }
        } catch FieldsalesError.offline {
            problem = "No connection: your changes are kept and sync later."
        } catch FieldsalesError.authExpired {
            problem = "Please sign in again."
        } catch {
            problem = "\(error)"
        }
        syncing = nil
    }
}
