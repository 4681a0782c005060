// The library's records carry their record ID as `id`, so SwiftUI lists and navigation take
// them as they are. The bindings' `Task` is named in full: it shadows Swift's own `Task`.

import Foundation
@_exported import FieldsalesBindings

extension FieldsalesBindings.Approval: Identifiable {}
extension FieldsalesBindings.Colleague: Identifiable {}
extension FieldsalesBindings.Contact: Identifiable {}
extension FieldsalesBindings.Customer: Identifiable {}
extension FieldsalesBindings.DailyReport: Identifiable {}
extension FieldsalesBindings.DuplicateHit: Identifiable {}
extension FieldsalesBindings.FollowUp: Identifiable {}
extension FieldsalesBindings.Lead: Identifiable {}
extension FieldsalesBindings.Opportunity: Identifiable {}
extension FieldsalesBindings.Order: Identifiable {}
extension FieldsalesBindings.OrgUnit: Identifiable {}
extension FieldsalesBindings.Payment: Identifiable {}
extension FieldsalesBindings.Product: Identifiable {}
extension FieldsalesBindings.SearchHit: Identifiable {}
extension FieldsalesBindings.Target: Identifiable {}
extension FieldsalesBindings.Task: Identifiable {}
extension FieldsalesBindings.Visit: Identifiable {}
extension FieldsalesBindings.VisitPlan: Identifiable {}
