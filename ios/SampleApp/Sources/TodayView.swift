// A rep's "today" header: the local day and the daily-report reminder, kept current by the
// library's local-clock stream (a new day at midnight, the deadline passing at 18:00). Whether a
// report is owed at all is the library's answer from the work calendar (weekends, public
// holidays, leave, a rep's first and last day), never the phone's guess: no reminder on a day off.

import Fieldsales
import SwiftUI

struct TodayView: View {
    /// The signed-in user's engine; before sign-in the view shows the day alone.
    var engine: Engine? = nil
    /// When the reminder is read again besides midnight: the standard process's deadline.
    private let deadline = DateComponents(hour: 18, minute: 0)
    @State private var today: DateComponents?
    @State private var reminder: String?
    @State private var problem: String?

    var body: some View {
        VStack(spacing: 12) {
            if let today {
                Text(dayTitle(today)).font(.title)
            }
            if let reminder {
                Text(reminder).foregroundColor(.secondary)
            }
            if let problem {
                Text(problem).foregroundColor(.red)
            }
            Text("Fieldsales \(libraryVersion())").font(.footnote).foregroundColor(.secondary)
        }
        .padding()
        .task { await followTheClock() }
        .task { await followTheRecords() }
    }

    private func followTheClock() async {
        let zone = TimeZone.current
        do {
            await refresh(try localDate(of: Date(), in: zone))
            for await event in try localTimeEvents(zone: zone, timesOfDay: [deadline]) {
                await refresh(event.localDay)
            }
        } catch {
            problem = "\(error)"
        }
    }

    /// A report written or judged, the calendar or the rep's leave changed: ask again.
    private func followTheRecords() async {
        guard let engine else { return }
        for await _ in engine.changes(of: [.dailyReport, .processConfig, .userProfile]) {
            if let today { await refresh(today) }
        }
    }

    private func refresh(_ day: DateComponents) async {
        today = day
        guard let engine else { return }
        do {
            reminder = inWords(try await engine.reportDue(date: day))
        } catch {
            problem = "\(error)"
        }
    }

    /// The reminder as the library gives it.
    private func inWords(_ due: ReportDue) -> String? {
        switch due.status {
        case .open:
            return due.deadline.map { "Daily report due by \(clockTime($0))" } ?? "Daily report due today"
        case .overdue:
            return "Daily report overdue"
        case .missing:
            return "Daily report missing"
        case .dayOff:
            let why = due.dayOff.map { "\($0)" } ?? "day off"
            return "No daily report due today (\(why))"
        case .submitted:
            return nil
        }
    }

    private func dayTitle(_ day: DateComponents) -> String {
        String(format: "%04d-%02d-%02d", day.year ?? 0, day.month ?? 0, day.day ?? 0)
    }

    private func clockTime(_ at: Date) -> String {
        let format = DateFormatter()
        format.dateFormat = "HH:mm"
        return format.string(from: at)
    }
}
