// The store is encrypted with a random 32-byte key (SQLCipher for the records, sealed files for
// the photos; SQLCipher uses CommonCrypto on Apple platforms). The key lives in the Keychain as
// a generic password of this app, readable after the phone's first unlock (so background sync
// works on a locked phone) and never migrated to another device or backup.

import Foundation
import Security
@_exported import FieldsalesBindings

/// Why the store key could not be read or saved.
public enum StoreKeyError: Error {
    /// The Keychain answered with this status.
    case keychain(OSStatus)
    /// The Keychain item holds something that is not a store key.
    case damaged
}

/// Keeps the store key of one store in the Keychain.
///
/// ```swift
/// let vault = StoreKeyVault(account: "fieldsales-store")
/// let key = try vault.storeKey()
/// let engine = try await resumeEngine(path: storePath, key: key)
///     ?? signIn(request: request, storePath: storePath, key: key)
/// ```
public struct StoreKeyVault {
    /// The Keychain service the item is filed under.
    public let service: String
    /// The item's account name: one per store.
    public let account: String

    public init(service: String = Bundle.main.bundleIdentifier ?? "app.fieldsales", account: String) {
        self.service = service
        self.account = account
    }

    /// The store key: read from the Keychain, or made and saved the first time.
    public func storeKey() throws -> Data {
        if let key = try read() {
            return key
        }
        let key = try generateStoreKey()
        try add(key)
        return key
    }

    /// Moves the store to a new key: `try await vault.rotate { try await engine.changeStoreKey(newKey: $0) }`.
    /// The new key is saved beside the old one first, the store re-keyed, then the old key
    /// replaced: a crash at any point leaves a key that opens the store (see `pendingKey`).
    public func rotate(_ rekey: (Data) async throws -> Void) async throws {
        let new = try generateStoreKey()
        try delete(account: pending)
        try add(new, account: pending)
        try await rekey(new)
        let status = SecItemUpdate(query(account) as CFDictionary, [kSecValueData: new] as CFDictionary)
        guard status == errSecSuccess else { throw StoreKeyError.keychain(status) }
        try delete(account: pending)
    }

    /// The key a `rotate` cut short was moving to: when `storeKey()` answers `WrongKey`, open
    /// the store with this one, then `rotate` again.
    public func pendingKey() throws -> Data? {
        try read(account: pending)
    }

    /// Deletes the saved keys (after sign-out).
    public func forget() throws {
        try delete(account: account)
        try delete(account: pending)
    }

    private var pending: String { account + ".next" }

    private func query(_ account: String) -> [CFString: Any] {
        [kSecClass: kSecClassGenericPassword, kSecAttrService: service, kSecAttrAccount: account]
    }

    private func delete(account: String) throws {
        let status = SecItemDelete(query(account) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw StoreKeyError.keychain(status)
        }
    }

    private func read(account: String? = nil) throws -> Data? {
        var q = query(account ?? self.account)
        q[kSecReturnData] = true
        q[kSecMatchLimit] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(q as CFDictionary, &item)
        if status == errSecItemNotFound { return nil }
        guard status == errSecSuccess else { throw StoreKeyError.keychain(status) }
        guard let data = item as? Data, data.count == 32 else { throw StoreKeyError.damaged }
        return data
    }

    private func add(_ key: Data, account: String? = nil) throws {
        var q = query(account ?? self.account)
        q[kSecValueData] = key
        q[kSecAttrAccessible] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        let status = SecItemAdd(q as CFDictionary, nil)
        guard status == errSecSuccess else { throw StoreKeyError.keychain(status) }
    }
}
