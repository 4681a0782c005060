// A rep's "today" header: the local day and the daily-report deadline, kept current by the
// library's local-clock stream (a new day at midnight, the deadline passing at 18:00).

import Fieldsales
import SwiftUI

struct TodayView: View {
    /// The report deadline of the sales process; the engine will read it from the configuration.
    private let deadline = DateComponents(hour: 18, minute: 0)
    @State private var today: DateComponents?
    @State private var deadlinePassed = false
    @State private var problem: String?

    var body: some View {
        VStack(spacing: 12) {
            if let today {
                Text(dayTitle(today)).font(.title)
                Text(deadlinePassed ? "Daily report deadline has passed" : "Daily report due by 18:00")
                    .foregroundColor(deadlinePassed ? .red : .secondary)
            }
            if let problem {
                Text(problem).foregroundColor(.red)
            }
            Text("Fieldsales \(libraryVersion())").font(.footnote).foregroundColor(.secondary)
        }
        .padding()
        .task { await followTheClock() }
    }

    private func followTheClock() async {
        let zone = TimeZone.current
        do {
            refresh(try localDate(of: Date(), in: zone), zone: zone)
            for await event in try localTimeEvents(zone: zone, timesOfDay: [deadline]) {
                if let day = event.localDay {
                    refresh(day, zone: zone)
                }
            }
        } catch {
            problem = "\(error)"
        }
    }

    private func refresh(_ day: DateComponents, zone: TimeZone) {
        today = day
        let due = try? localTime(deadline, on: day, in: zone)
        deadlinePassed = due.map { $0 <= Date() } ?? false
    }

    private func dayTitle(_ day: DateComponents) -> String {
        String(format: "%04d-%02d-%02d", day.year ?? 0, day.month ?? 0, day.day ?? 0)
    }
}
