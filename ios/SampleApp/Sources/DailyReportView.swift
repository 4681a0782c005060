// Today's report: the draft gathers the day's visits and follow-ups in the library; the rep
// writes the sections and submits, offline if need be.

import Fieldsales
import SwiftUI

struct DailyReportView: View {
    let engine: Engine
    /// The local day, `YYYY-MM-DD`.
    let date: DateComponents
    @State private var report: DailyReport?
    @State private var summary = ""
    @State private var planTomorrow = ""
    @State private var problem: String?

    var body: some View {
        Form {
            if let report {
                Section("\(report.date) · \(report.state)") {
                    Text("\(report.visitIds.count) visits, \(report.followUpIds.count) follow-ups")
                }
                TextField("Summary", text: $summary, axis: .vertical)
                TextField("Plan for tomorrow", text: $planTomorrow, axis: .vertical)
                Button("Submit") { _Concurrency.Task { await submit(report.id) } }
                    .disabled(report.state != .draft)
            }
            if let problem { Text(problem).foregroundColor(.red) }
        }
        .task { await load() }
    }

    private func load() async {
        do {
            let draft = try await engine.reportDraft(date: date)
            report = draft
            summary = draft.summary
            planTomorrow = draft.planTomorrow
        } catch {
            problem = "\(error)"
        }
    }

    private func submit(_ id: String) async {
        do {
            _ = try await engine.editReport(
                reportId: id,
                edit: ReportEdit(summary: summary, results: nil, problems: nil, planTomorrow: planTomorrow)
            )
            report = try await engine.submitReport(reportId: id)
        } catch {
            problem = "\(error)"
        }
    }
}
