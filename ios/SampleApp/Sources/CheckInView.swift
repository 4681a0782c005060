// A rep checks in at a customer: the position exactly as Core Location gave it goes to the
// library, which judges it offline and says why a check-in looks doubtful.

import CoreLocation
import Fieldsales
import SwiftUI

struct CheckInView: View {
    let engine: Engine
    let customerId: String
    /// The latest fix from the app's CLLocationManager delegate.
    let location: CLLocation?
    @State private var note = ""
    @State private var checkedIn: CheckedIn?
    @State private var problem: String?

    var body: some View {
        Form {
            TextField("Note", text: $note)
            Button("Check in") { _Concurrency.Task { await checkIn() } }
                .disabled(location == nil || checkedIn != nil)
            if let verdict = checkedIn?.visit.verdict {
                Section("Verdict (\(verdict.judgedBy))") {
                    Text("Geofence: \(verdict.fence)")
                    if let d = verdict.distanceM { Text("Distance: \(Int(d)) m ± \(Int(verdict.accuracyM)) m") }
                    ForEach(verdict.flags, id: \.kind) { flag in
                        Text("Flag: \(flag.kind)").foregroundColor(.orange)
                    }
                }
            }
            if let problem { Text(problem).foregroundColor(.red) }
        }
    }

    private func checkIn() async {
        guard let location else { return }
        // A negative accuracy means Core Location has no position: no fix to check in with.
        guard location.horizontalAccuracy >= 0 else {
            problem = "waiting for a position"
            return
        }
        let position = DevicePosition(
            lat: location.coordinate.latitude,
            lon: location.coordinate.longitude,
            accuracyM: location.horizontalAccuracy,
            // The fix's own time, as Core Location stamped it, never the time of the tap.
            fixTime: location.timestamp,
            isMock: location.sourceInformation?.isSimulatedBySoftware ?? false,
            integrity: nil,
            sinceBootMs: sinceBootMs(of: location)
        )
        do {
            checkedIn = try await engine.checkIn(customerId: customerId, position: position, note: note)
        } catch FieldsalesError.ruleViolated(let rule, let detail) {
            problem = "\(rule): \(detail)"
        } catch {
            problem = "\(error)"
        }
    }
}

/// The monotonic clock at the fix, ms since boot: `CLOCK_MONOTONIC` counts sleep (the system
/// uptime does not), less the fix's age on the wall clock a moment ago. Winding the wall clock
/// leaves it be, so the server can tell a clock set back between two visits.
func sinceBootMs(of location: CLLocation) -> Int64? {
    let monotonicNow = Double(clock_gettime_nsec_np(CLOCK_MONOTONIC)) / 1_000_000_000
    let age = Date().timeIntervalSince(location.timestamp)
    let sinceBoot = monotonicNow - age
    return sinceBoot >= 0 ? Int64(sinceBoot * 1000) : nil
}
