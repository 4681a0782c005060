// The sample's entry point: it reopens the signed-in user's store (the sign-in screen is not in
// the sample) and offers the four screens of a rep's and a manager's day as tabs. The local day
// the screens work on comes from the library (`today()`), in the user's zone, never from here.

import CoreLocation
import Fieldsales
import SwiftUI

@main
struct FieldsalesSampleApp: App {
    @State private var engine: Engine?
    @State private var problem: String?

    init() {
        BackgroundSync.register(storePath: { FieldsalesSampleApp.storePath() })
        BackgroundSync.schedule()
    }

    /// The signed-in user's store, in the app's support folder.
    static func storePath() -> String {
        let folder = (try? FileManager.default.url(
            for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true
        )) ?? FileManager.default.temporaryDirectory
        return folder.appendingPathComponent("fieldsales.sqlite").path
    }

    var body: some Scene {
        WindowGroup {
            Group {
                if let engine {
                    MainTabs(engine: engine)
                } else if let problem {
                    Text(problem).foregroundColor(.red)
                } else {
                    VStack {
                        TodayView()
                        Text("Sign in to start")
                    }
                }
            }
            .task { await resume() }
        }
    }

    private func resume() async {
        do {
            engine = try await resumeEngine(path: FieldsalesSampleApp.storePath())
        } catch {
            problem = "\(error)"
        }
    }
}

/// Check-in at a customer, today's agenda, the daily report and the team dashboard.
struct MainTabs: View {
    let engine: Engine
    @StateObject private var location = LocationFeed()
    @State private var today: DateComponents?
    @State private var problem: String?

    var body: some View {
        TabView {
            NavigationView {
                CustomerPicker(engine: engine, location: location.latest)
            }
            .tabItem { Label("Check in", systemImage: "mappin.and.ellipse") }

            VStack {
                TodayView(engine: engine)
                AgendaView(engine: engine)
            }
            .tabItem { Label("Today", systemImage: "calendar") }

            Group {
                if let today {
                    DailyReportView(engine: engine, date: today)
                } else {
                    Text(problem ?? "…")
                }
            }
            .tabItem { Label("Report", systemImage: "doc.text") }

            Group {
                if let today {
                    // The month so far: its first day through the library's today.
                    TeamDashboardView(engine: engine, from: firstOfMonth(today), to: today)
                } else {
                    Text(problem ?? "…")
                }
            }
            .tabItem { Label("Team", systemImage: "chart.bar") }
        }
        .task {
            location.start()
            do {
                today = try await engine.today().date
            } catch {
                problem = "\(error)"
            }
        }
    }
}

/// The rep's customers; tapping one opens its check-in screen with the latest fix.
struct CustomerPicker: View {
    let engine: Engine
    let location: CLLocation?
    @State private var customers: [Customer] = []
    @State private var problem: String?

    var body: some View {
        List {
            ForEach(customers, id: \.id) { customer in
                NavigationLink(destination: CheckInView(engine: engine, customerId: customer.id, location: location)) {
                    Text(customer.shortName ?? customer.legalName)
                }
            }
            if let problem { Text(problem).foregroundColor(.red) }
        }
        .navigationTitle("Customers")
        .task {
            await load()
            for await _ in engine.changes(of: [.customer]) { await load() }
        }
    }

    private func load() async {
        do {
            customers = try await engine.customers()
        } catch {
            problem = "\(error)"
        }
    }
}

/// The latest fix from Core Location, as the OS gave it; judging it is the library's work.
final class LocationFeed: NSObject, ObservableObject, CLLocationManagerDelegate {
    @Published var latest: CLLocation?
    private let manager = CLLocationManager()

    func start() {
        manager.delegate = self
        manager.desiredAccuracy = kCLLocationAccuracyBest
        manager.requestWhenInUseAuthorization()
        manager.startUpdatingLocation()
    }

    func locationManager(_ manager: CLLocationManager, didUpdateLocations locations: [CLLocation]) {
        latest = locations.last
    }
}

/// The first day of `day`'s month.
func firstOfMonth(_ day: DateComponents) -> DateComponents {
    var first = day
    first.day = 1
    return first
}
