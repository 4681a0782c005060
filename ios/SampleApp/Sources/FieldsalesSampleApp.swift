import SwiftUI

@main
struct FieldsalesSampleApp: App {
    var body: some Scene {
        WindowGroup {
            TodayView()
        }
    }
}
